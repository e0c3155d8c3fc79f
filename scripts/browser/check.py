"""The server's pages in a real headless Chromium, driven by pinned Selenium.

Run by scripts/browser.sh check (tests/api/browser.rs starts the server and
writes the configuration: a JSON file named by BROWSER_CONFIG). One browser
session walks through the landing page, the query explorer, the API docs
(Swagger UI) and the invitation page; screenshots go to the configuration's
screenshot directory.
Every check raises on failure (the exit status is the verdict).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CONFIG = json.load(open(os.environ["BROWSER_CONFIG"], encoding="utf-8"))
BASE = CONFIG["address"]
SHOTS = CONFIG["screenshots"]
os.makedirs(SHOTS, exist_ok=True)


def log(text):
    print(f"[browser] {text}", flush=True)


def fail(text):
    raise AssertionError(text)


def browser():
    options = Options()
    options.binary_location = CONFIG.get("chromium", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CONFIG.get("chromedriver", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


driver = browser()
wait = WebDriverWait(driver, 15, poll_frequency=0.1)


def shot(name):
    path = os.path.join(SHOTS, f"{name}.png")
    driver.save_screenshot(path)
    log(f"screenshot {path}")


def by_id(name):
    return driver.find_element(By.ID, name)


def until(what, predicate):
    try:
        return wait.until(lambda d: predicate())
    except TimeoutException:
        shot(f"failed-{re.sub('[^a-z0-9]+', '-', what.lower())}")
        # Swagger UI's own complaint, when it refused to send a request.
        complaints = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".validation-errors, .errors-wrapper")]
        fail(f"timed out waiting for {what}" + (f" (the page says: {complaints})" if complaints else ""))


def console_errors():
    """Errors in the browser's console (a CSP violation, a script error);
    the 4xx answers the checks provoke (network entries) are expected."""
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]


def check_console(where):
    errors = console_errors()
    if errors:
        fail(f"console errors on {where}: {errors}")


# ---------------------------------------------------------------- landing

def landing():
    driver.get(BASE + "/")
    until("the landing page", lambda: "odata-users" in driver.title)
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href]")]
    own = sorted({link for link in links if link.startswith(BASE)})
    for name in ("/explorer", "/docs/", "/health"):
        if BASE + name not in own:
            fail(f"no link to {name} on the landing page: {own}")
    for link in own:
        response = requests.get(link, timeout=30)
        if response.status_code != 200:
            fail(f"the landing page's link {link} answers {response.status_code}")
    shot("landing")
    driver.find_element(By.LINK_TEXT, "Query explorer").click()
    until("the explorer after clicking its link", lambda: driver.current_url == BASE + "/explorer")
    check_console("the landing page")
    log(f"landing page: {len(own)} links answer 200; the explorer link opens /explorer")


# --------------------------------------------------------------- explorer

def sign_in(client_id, secret):
    driver.get(BASE + "/explorer")
    until("the sign-in form", lambda: by_id("client-id").is_displayed())
    by_id("client-id").send_keys(client_id)
    by_id("client-secret").send_keys(secret)
    by_id("signin-button").click()
    until("the workspace", lambda: by_id("workspace").is_displayed())
    until("the entity sets", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#entity-set option")) > 0)
    sets = [o.text for o in driver.find_elements(By.CSS_SELECTOR, "#entity-set option")]
    if sets[:3] != ["Users", "Roles", "Groups"]:
        fail(f"entity sets from the service document: {sets}")
    if by_id("tenant").get_attribute("value") != CONFIG["tenant"]:
        fail("the tenant is not the token's")
    # The token is in memory only.
    stored = driver.execute_script(
        "return JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage), document.cookie])")
    if stored != '[[],[],""]':
        fail(f"the explorer stored something: {stored}")


def set_query(text):
    box = by_id("query")
    box.clear()
    box.send_keys(text)
    until("the query in the box", lambda: box.get_attribute("value") == text)


def wait_valid():
    until("a valid query", lambda: by_id("problem").text.startswith("The query is valid."))


def run_query(text):
    set_query(text)
    by_id("run").click()
    until("the rows", lambda: by_id("page-info").text.startswith("Page "))


def table():
    header = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#rows thead th")]
    rows = [[td.get_attribute("textContent") for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")]
    return header, rows


def column(name):
    header, rows = table()
    if name not in header:
        fail(f"no column {name} in {header}")
    return [row[header.index(name)] for row in rows]


def tab(name):
    driver.find_element(By.CSS_SELECTOR, f'.tab[data-tab="{name}"]').click()


def completion():
    box = by_id("query")
    box.clear()
    box.send_keys("$fil")
    until("the option completion", lambda: by_id("completions").is_displayed())
    labels = [li.find_element(By.CLASS_NAME, "label").text
              for li in driver.find_elements(By.CSS_SELECTOR, "#completions li")]
    if labels != ["$filter"]:
        fail(f"completions of $fil: {labels}")
    box.send_keys(Keys.TAB)
    until("$filter= taken", lambda: box.get_attribute("value") == "$filter=")
    box.send_keys("stat")
    until("the property completion", lambda: "status" in by_id("completions").text)
    box.send_keys(Keys.TAB)
    until("status taken", lambda: box.get_attribute("value") == "$filter=status")
    box.send_keys(" eq 1 and conta")
    until("the function completion", lambda: "contains" in by_id("completions").text)
    box.send_keys(Keys.TAB)
    until("contains( taken", lambda: box.get_attribute("value") == "$filter=status eq 1 and contains(")
    box.send_keys("na")
    until("name offered", lambda: "name" in by_id("completions").text)
    box.send_keys(Keys.TAB, ",'a')")
    wait_valid()
    log("completion: $fil -> $filter=, stat -> status, conta -> contains(, na -> name; the result is valid")


def completion_labels():
    return [(li.find_element(By.CLASS_NAME, "label").text, li.find_element(By.CLASS_NAME, "hint").text)
            for li in driver.find_elements(By.CSS_SELECTOR, "#completions li")]


def completion_after_apply():
    """After a $apply, the completion offers what it produces (read from the
    validate route's AST): the aggregate alias and grouping properties, not
    the entity type's properties; in $apply, after a "/"; without $apply,
    the entity type's again."""
    box = by_id("query")
    apply = "$apply=groupby((status,isTechnician),aggregate($count as users))"
    set_query(apply + "&$orderby=us")
    until("the aggregate alias offered", lambda: ("users", "from $apply") in completion_labels())
    labels = [label for label, _ in completion_labels()]
    if labels != ["users"]:
        fail(f"completions of us after a groupby: {labels} (userKey is not in the groups)")
    box.send_keys(Keys.TAB)
    until("users taken", lambda: box.get_attribute("value") == apply + "&$orderby=users")
    box.send_keys(" desc")
    wait_valid()
    set_query(apply + "&$select=is")
    until("the grouping property offered", lambda: ("isTechnician", "from $apply") in completion_labels())
    set_query(apply + "&$orderby=na")
    if by_id("completions").is_displayed():
        fail(f"the entity type's name offered after a groupby: {completion_labels()}")
    set_query(apply + "/orderby(us")
    until("the alias after a /", lambda: ("users", "from $apply") in completion_labels())
    set_query("$apply=aggregate($count as total)&$orderby=to")
    until("the aggregate's alias", lambda: ("total", "from $apply") in completion_labels())
    set_query("$orderby=us")
    until("the entity type's property without $apply", lambda: ("userKey", "property") in completion_labels())
    log("completion after $apply: the alias users and the grouping isTechnician after a groupby "
        "(not name), in $apply after a /, total after aggregate; userKey without $apply")


def errors():
    # An unknown property after characters the explorer encodes (a plus,
    # spaces): the mark must sit on the first character of the name.
    text = "$filter=name eq 'a+b & c' and stauts eq 1"
    set_query(text)
    until("the error mark", lambda: driver.find_elements(By.ID, "error-mark"))
    mark = by_id("error-mark")
    at = int(mark.get_attribute("data-offset"))
    if at != text.index("stauts") or mark.text != "s":
        fail(f"the error mark is at {at} ({mark.text!r}), not under stauts at {text.index('stauts')}")
    message = by_id("problem-message").text
    if "did you mean" not in message or "status" not in message:
        fail(f"the error message: {message}")
    # The mark is drawn under the character in the textarea: same place on screen.
    box = by_id("query")
    mark_left = mark.location["x"] - box.location["x"]
    probe = driver.execute_script(
        """const box = arguments[0], at = arguments[1];
           const mirror = document.getElementById('highlight');
           return mirror.getBoundingClientRect().left - box.getBoundingClientRect().left;""",
        box, at)
    if abs(probe) > 1 or mark_left <= 0:
        fail(f"the highlight is not aligned with the textarea (offset {probe}, mark at {mark_left})")
    shot("explorer-error")
    # A syntax error at the end.
    text = "$filter=status eq"
    set_query(text)
    until("the syntax error mark", lambda: driver.find_elements(By.ID, "error-mark"))
    at = int(by_id("error-mark").get_attribute("data-offset"))
    caret = by_id("problem-caret").text.split("\n")
    if at < text.index("eq") + 2 or caret[1].index("^") != at:
        fail(f"the syntax error is marked at {at}: {caret}")
    log(f"errors: an unknown property marked under its first character, with did you mean; a syntax error at {at}")


def paging():
    expected = CONFIG["status1Keys"]
    run_query("$filter=status eq 1&$orderby=userKey&$select=userKey,name,status&$count=true")
    seen = []
    page = 1
    while True:
        keys = column("userKey")
        if len(keys) > CONFIG["pageSize"]:
            fail(f"page {page} has {len(keys)} rows")
        seen.extend(keys)
        info = by_id("page-info").text
        if f"of {len(expected)}" not in info:
            fail(f"the count on page {page}: {info}")
        if page == 1:
            shot("explorer-rows")
        if not by_id("next").is_enabled():
            break
        by_id("next").click()
        page += 1
        until(f"page {page}", lambda: by_id("page-info").text.startswith(f"Page {page}:"))
    if seen != expected:
        fail(f"paging read {seen}, expected {expected}")
    if page < 2:
        fail("a single page: the test data should need next links")
    by_id("prev").click()
    until("the previous page", lambda: by_id("page-info").text.startswith(f"Page {page - 1}:"))
    log(f"paging: {len(seen)} rows over {page} pages by the next links, and back")


def escaping():
    run_query("$select=userKey,name&$filter=contains(name,'<') or contains(name,'+')&$orderby=userKey")
    names = column("name")
    if names != CONFIG["markupNames"]:
        fail(f"names with markup: {names}, expected {CONFIG['markupNames']}")
    if driver.find_elements(By.CSS_SELECTOR, "#rows b, #rows script, #rows img"):
        fail("a value from the data became markup")
    log("escaping: names with <b>, <img> and & shown as text")


def chart():
    run_query("$apply=groupby((status),aggregate($count as users))")
    tab("chart")
    until("the chart", lambda: driver.find_elements(By.ID, "chart-svg"))
    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-svg .bar-rect")
    values = {}
    for group in driver.find_elements(By.CSS_SELECTOR, "#chart-svg .bar"):
        label = group.find_element(By.CLASS_NAME, "bar-label").get_attribute("textContent")
        values[label] = int(group.find_element(By.CLASS_NAME, "bar-rect").get_attribute("data-value"))
    if values != CONFIG["usersByStatus"] or len(bars) != len(values):
        fail(f"the chart's bars {values}, expected {CONFIG['usersByStatus']}")
    widths = [float(b.get_attribute("width")) for b in bars]
    top = max(values.values())
    for (label, value), width in zip(values.items(), widths):
        if abs(width / max(widths) - value / top) > 0.01:
            fail(f"bar {label} is {width} wide for {value} (longest {max(widths)} for {top})")
    shot("explorer-chart")
    # Groups without an aggregate: nothing to measure, and the page says so;
    # a query without $apply then shows the first hint again.
    run_query("$apply=groupby((status))")
    tab("chart")
    until("the no-measure note", lambda: by_id("chart-no-measure").is_displayed())
    if driver.find_elements(By.ID, "chart-svg") or by_id("chart-note").is_displayed():
        fail("a chart or the groupby hint beside the no-measure note")
    run_query("$top=1")
    tab("chart")
    until("the groupby hint", lambda: by_id("chart-note").is_displayed())
    if by_id("chart-no-measure").is_displayed() or not driver.find_elements(By.CSS_SELECTOR, "#chart-note code"):
        fail(f"the chart's hint after a query without $apply: {by_id('chart-note').get_attribute('innerHTML')}")
    tab("rows")
    log(f"chart: one bar per status {values}; without an aggregate the page says what to add")


def explain_without_admin():
    set_query("$top=1")
    by_id("explain").click()
    until("the explain note", lambda: driver.find_elements(By.ID, "explain-missing"))
    if "identity.admin" not in by_id("explain-missing").text:
        fail(by_id("explain-missing").text)
    tab("rows")
    log("explain without identity.admin: the page says the scope is needed")


def explain_with_admin():
    set_query("$filter=status eq 1&$orderby=name&$top=3")
    by_id("explain").click()
    until("the SQL", lambda: driver.find_elements(By.CSS_SELECTOR, 'pre.sql[data-backend="sqlite"]'))
    sql = driver.find_element(By.CSS_SELECTOR, 'pre.sql[data-backend="sqlite"]').text
    if "SELECT" not in sql.upper():
        fail(f"the SQL: {sql}")
    plans = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "pre.plan")]
    if not plans or not all(plans):
        fail(f"the plan: {plans}")
    if len(driver.find_elements(By.CSS_SELECTOR, "details.backend")) != 3:
        fail("the SQL of the three backends")
    shot("explorer-sql")
    log("explain with identity.admin: the SQL of three backends and the plan")


def token_env():
    token = requests.post(f"{BASE}/connect/token", timeout=30, data={
        "grant_type": "client_credentials",
        "client_id": CONFIG["clientId"], "client_secret": CONFIG["clientSecret"]}).json()["access_token"]
    return dict(os.environ, TOKEN=token)


def snippet_rows(kind, env):
    """The snippet of `kind` as the Copy as tab shows it, run: (code, [[userKey, name]])."""
    driver.find_element(By.CSS_SELECTOR, f'.snippet-kind[data-kind="{kind}"]').click()
    until(f"the {kind} snippet", lambda: by_id("snippet").get_attribute("data-kind") == kind)
    code = by_id("snippet").get_attribute("textContent")
    if kind == "curl":
        out = subprocess.run(["bash", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    elif kind == "python":
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    elif kind == "fetch":
        node = shutil.which("node")
        if not node:
            fail("node is needed to run the fetch snippet")
        out = subprocess.run([node, "--input-type=module"], input=code, env=env,
                             capture_output=True, text=True, timeout=60)
    else:
        match = re.search(r'OData\.Feed\("((?:[^"]|"")*)", null', code)
        if not match:
            fail(f"no OData.Feed URL in {code}")
        url = match.group(1).replace('""', '"')
        response = requests.get(url, auth=(CONFIG["clientId"], CONFIG["clientSecret"]), timeout=30)
        out = subprocess.CompletedProcess([url], 0 if response.ok else 1, response.text, "")
    if out.returncode != 0:
        fail(f"the {kind} snippet failed ({out.returncode}):\n{code}\n{out.stdout}\n{out.stderr}")
    return code, [[r["userKey"], r["name"]] for r in json.loads(out.stdout)["value"]]


def shown_rows():
    return [[k, n] for k, n in zip(column("userKey"), column("name"))]


def snippets():
    text = "$filter=contains(name,'+') or startswith(name,'Zo')&$select=userKey,name&$orderby=userKey"
    run_query(text)
    expected = shown_rows()
    if len(expected) < 2:
        fail(f"the snippet query should find rows: {expected}")
    tab("copy")
    env = token_env()
    for kind in ("curl", "python", "fetch", "powerquery"):
        code, rows = snippet_rows(kind, env)
        if rows != expected:
            fail(f"the {kind} snippet read {rows}, the explorer {expected}:\n{code}")
    shot("explorer-copy")
    log(f"copy as: the curl, Python, fetch and Power Query read the explorer's {len(expected)} rows")


def snippets_of_page_two():
    """After Next page, Copy as writes page 2's request (its next link's
    $skiptoken); Power Query the first page's (OData.Feed pages itself);
    "the typed query" the first page's."""
    tab("rows")
    run_query("$filter=status eq 1&$orderby=userKey&$select=userKey,name&$count=true")
    first = shown_rows()
    by_id("next").click()
    until("page 2", lambda: by_id("page-info").text.startswith("Page 2:"))
    second = shown_rows()
    if not second or second == first:
        fail(f"page 2 {second} after page 1 {first}")
    tab("copy")
    by_id("copy-page").click()
    env = token_env()
    for kind in ("curl", "python", "fetch"):
        code, rows = snippet_rows(kind, env)
        if "$skiptoken" not in code or rows != second:
            fail(f"the {kind} snippet of page 2 read {rows}, the explorer {second}:\n{code}")
    code, rows = snippet_rows("powerquery", env)
    if "skiptoken" in code.lower() or rows != first:
        fail(f"Power Query of page 2 should be the first page's query; it read {rows}:\n{code}")
    if not by_id("copy-note").is_displayed():
        fail("no note saying why Power Query copies the first page")
    shot("explorer-copy-page-2")
    by_id("copy-query").click()
    code, rows = snippet_rows("curl", env)
    if "$skiptoken" in code or rows != first:
        fail(f"the typed query's curl read {rows}, the first page is {first}:\n{code}")
    by_id("copy-page").click()
    tab("rows")
    log(f"copy as page 2: curl, Python and fetch read page 2's {len(second)} rows (its $skiptoken); "
        f"Power Query and the typed query the first page's {len(first)}")


def api1():
    """API 1's groups list: its names completed, rows, paging by nextPageLink."""
    Select(by_id("api")).select_by_value("identity")
    until("API 1's lists", lambda: [o.text for o in driver.find_elements(By.CSS_SELECTOR, "#entity-set option")]
          == ["users", "roles", "groups"])
    Select(by_id("entity-set")).select_by_value("groups")
    box = by_id("query")
    box.clear()
    box.send_keys("$orderby=groupK")
    until("groupKey offered", lambda: ("groupKey", "property") in completion_labels())
    box.send_keys(Keys.TAB)
    until("groupKey taken", lambda: box.get_attribute("value") == "$orderby=groupKey")
    box.send_keys("&$select=groupKey,name&$count=true")
    wait_valid()
    if "/identity/groups/odata?" not in by_id("request-url").text:
        fail(f"the request line: {by_id('request-url').text}")
    by_id("run").click()
    until("API 1's rows", lambda: by_id("page-info").text.startswith("Page 1:"))
    expected = sorted(CONFIG["groupKeys"])
    seen = []
    page = 1
    while True:
        keys = column("groupKey")
        if len(keys) > 100:
            fail(f"API 1 page {page} has {len(keys)} rows")
        seen.extend(keys)
        if f"of {len(expected)}" not in by_id("page-info").text:
            fail(f"the count on API 1's page {page}: {by_id('page-info').text}")
        if page == 1:
            shot("explorer-api1")
        if not by_id("next").is_enabled():
            break
        by_id("next").click()
        page += 1
        until(f"API 1 page {page}", lambda: by_id("page-info").text.startswith(f"Page {page}:"))
    if seen != expected or page != 2:
        fail(f"API 1's groups over {page} pages: {seen}, expected {expected}")
    Select(by_id("api")).select_by_value("feed")
    until("the feed's sets again", lambda: [o.text for o in driver.find_elements(By.CSS_SELECTOR, "#entity-set option")][:1]
          == ["Users"])
    box.clear()
    log(f"api 1: groups completed (groupKey), {len(seen)} rows over {page} pages by nextPageLink")


def readme_shot():
    run_query("$select=userKey,name,status,isTechnician&$filter=status eq 1&$orderby=name&$top=8")
    tab("rows")
    driver.execute_script("window.scrollTo(0, 0)")
    shot("explorer")


def explorer():
    sign_in(CONFIG["clientId"], CONFIG["clientSecret"])
    completion()
    completion_after_apply()
    errors()
    paging()
    escaping()
    chart()
    explain_without_admin()
    snippets()
    snippets_of_page_two()
    api1()
    check_console("the explorer")
    by_id("signout").click()
    until("the sign-in form again", lambda: by_id("signin").is_displayed())
    sign_in(CONFIG["adminId"], CONFIG["adminSecret"])
    explain_with_admin()
    readme_shot()
    check_console("the explorer (admin)")


# ------------------------------------------------------------ API docs

def docs_operation(op_id):
    """The operation's block, expanded ("try it out" is open by configuration)."""
    selector = f"#operations-{op_id}"
    until(f"the operation {op_id}", lambda: driver.find_elements(By.CSS_SELECTOR, selector))
    op = driver.find_element(By.CSS_SELECTOR, selector)
    if not op.find_elements(By.CSS_SELECTOR, ".btn.execute"):
        op.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    until(f"{op_id} expanded with try it out", lambda: op.find_elements(By.CSS_SELECTOR, ".btn.execute"))
    return op


def docs_fill(op, values):
    """Parameter values: the tenant typed, the rest set as a paste would
    (an input event each; typing every character re-renders the page,
    seconds per field)."""
    for i, (name, value) in enumerate(values.items()):
        field = op.find_element(By.CSS_SELECTOR, f'tr[data-param-name="{name}"] input')
        if i == 0:
            field.send_keys(value)
        else:
            driver.execute_script(
                """const [field, value] = arguments;
                   Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(field, value);
                   field.dispatchEvent(new Event('input', {bubbles: true}));""",
                field, value)
    for name, value in values.items():
        field = op.find_element(By.CSS_SELECTOR, f'tr[data-param-name="{name}"] input')
        if field.get_attribute("value") != value:
            fail(f"the parameter {name} reads {field.get_attribute('value')!r}, not {value!r}")
    # A field's input is debounced: Swagger UI's state (what Execute
    # validates and sends) takes the value a moment after the page shows
    # it. Clicking Execute before then sent no orgKey ("Required field is
    # not provided": CI and a fresh machine failed so); wait until the
    # state holds them.
    path = op.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
    method = op.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.lower()

    def held():
        state = driver.execute_script(
            "return Object.values(window.ui.getSystem().specSelectors"
            ".parameterValues([arguments[0], arguments[1]]).toJS())", path, method)
        return all(value in state for value in values.values())
    until("Swagger UI holding the parameter values", held)


def docs_execute(op, status):
    """Execute, and the live answer shown with `status`: (status, body text)."""
    cell = ".live-responses-table tbody tr.response .response-col_status"
    # A previous answer stays until the new one arrives: clear it first.
    for clear_button in op.find_elements(By.CSS_SELECTOR, ".btn-clear"):
        clear_button.click()
    until("the previous answer cleared", lambda: not op.find_elements(By.CSS_SELECTOR, cell))
    op.find_element(By.CSS_SELECTOR, ".btn.execute").click()
    until(f"the answer {status}", lambda: [c.text for c in op.find_elements(By.CSS_SELECTOR, cell)] == [str(status)])
    body = op.find_element(By.CSS_SELECTOR, ".live-responses-table tbody tr.response .highlight-code pre")
    return body.get_attribute("textContent")


def docs_authorize(scheme, fill):
    """Open Authorize, fill the scheme's section, authorize and close the dialog."""
    driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    until("the authorization dialog", lambda: driver.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container"))
    section = next((c for c in driver.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container")
                    if scheme in c.find_element(By.TAG_NAME, "h4").text), None)
    if section is None:
        fail(f"no {scheme} in the authorization dialog")
    fill(section)
    section.find_element(By.CSS_SELECTOR, "button.authorize").click()
    until(f"{scheme} authorized", lambda: "Authorized" in section.text)
    return section


def docs_close_dialog(section):
    section.find_element(By.CSS_SELECTOR, "button.btn-done").click()
    until("the dialog closed", lambda: not driver.find_elements(By.CSS_SELECTOR, ".modal-ux"))


def docs():
    driver.get(BASE + "/docs")
    until("Swagger UI", lambda: driver.find_elements(By.CSS_SELECTOR, "#operations-tag-Users"))
    if driver.current_url != BASE + "/docs/":
        fail(f"/docs did not lead to /docs/: {driver.current_url}")
    metadata = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".info a")
                if a.get_attribute("href").endswith("/odata/$metadata")]
    if not metadata:
        fail("the docs page does not link the feed's $metadata")
    op = docs_operation("Users-listUsers")
    docs_fill(op, {"tenantKey": CONFIG["tenant"], "orgKey": "main", "$filter": "status eq 1",
                   "$orderby": "userKey", "$top": "3", "$select": "userKey,name"})
    expected = CONFIG["status1Keys"][:3]

    # Without a token: the API's 401, shown in the page.
    body = json.loads(docs_execute(op, 401))
    if body.get("error", {}).get("code") != "Unauthorized":
        fail(f"the 401 body: {body}")

    # Authorize with client credentials: the page asks /connect/token for
    # a token with the ticked scope.
    def client_credentials(section):
        section.find_element(By.ID, "client_id_clientCredentials").send_keys(CONFIG["clientId"])
        section.find_element(By.ID, "client_secret_clientCredentials").send_keys(CONFIG["clientSecret"])
        section.find_element(By.CSS_SELECTOR, 'label[for="identity.read-clientCredentials-checkbox-clientCredentials"]').click()
        if not section.find_element(By.ID, "identity.read-clientCredentials-checkbox-clientCredentials").is_selected():
            fail("the identity.read scope is not ticked")
    section = docs_authorize("clientCredentials", client_credentials)
    docs_close_dialog(section)
    body = json.loads(docs_execute(op, 200))
    keys = [item["userKey"] for item in body["items"]]
    if keys != expected:
        fail(f"listUsers from the docs read {keys}, expected {expected}")
    request_url = op.find_element(By.CSS_SELECTOR, ".request-url pre").text
    if not request_url.startswith(f"{BASE}/api/{CONFIG['tenant']}/main/identity/users/odata?"):
        fail(f"the request URL: {request_url}")
    driver.execute_script("arguments[0].scrollIntoView()", op.find_element(By.CSS_SELECTOR, ".live-responses-table"))
    shot("docs-try-it-out")

    # Log out, then paste a Bearer token the test got from /connect/token.
    driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    until("the authorization dialog", lambda: driver.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container"))
    for button in driver.find_elements(By.CSS_SELECTOR, '.modal-ux button[aria-label="Remove authorization"]'):
        button.click()
    driver.find_element(By.CSS_SELECTOR, ".modal-ux .close-modal").click()
    until("the dialog closed", lambda: not driver.find_elements(By.CSS_SELECTOR, ".modal-ux"))
    token = requests.post(f"{BASE}/connect/token", timeout=30, data={
        "grant_type": "client_credentials", "scope": "identity.read",
        "client_id": CONFIG["clientId"], "client_secret": CONFIG["clientSecret"]}).json()["access_token"]
    section = docs_authorize("bearerAuth", lambda s: s.find_element(By.ID, "auth-bearer-value").send_keys(token))
    docs_close_dialog(section)
    body = json.loads(docs_execute(op, 200))
    if [item["userKey"] for item in body["items"]] != expected:
        fail(f"listUsers with the pasted token read {body}")

    stored = driver.execute_script(
        "return JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage), document.cookie])")
    if stored != '[[],[],""]':
        fail(f"the docs page stored something: {stored}")
    check_console("the docs page")
    log(f"docs: listUsers called from /docs/ with a client-credentials token and a pasted Bearer token "
        f"reads {expected} (401 without); nothing stored")


# ------------------------------------------------------------- invitation

def invitation():
    driver.get(CONFIG["invitationUrl"])
    until("the invitation page", lambda: by_id("accept").is_displayed())
    if CONFIG["invitedName"] not in driver.find_element(By.TAG_NAME, "dl").text:
        fail("the invited name is not on the page")
    by_id("accept").click()
    until("the accept result", lambda: by_id("result").text.startswith("Accepted"))
    shot("invitation")
    check_console("the invitation page")
    log("invitation: accepted by clicking")


started = time.monotonic()
try:
    landing()
    explorer()
    docs()
    invitation()
finally:
    driver.quit()
log(f"all browser checks passed in {time.monotonic() - started:.1f} s")
