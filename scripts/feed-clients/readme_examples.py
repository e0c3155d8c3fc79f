"""Runs the README's client examples against a live server, exactly as
written: every fenced sh, python or js block that talks to the demo server
(http://127.0.0.1:8080/api/demo/main/...) is taken from README.md at run
time, the only change being the server's address. ID and SECRET are the
demo client's credentials (FEED_CLIENT_ID / FEED_CLIENT_SECRET), as the
README says to set them. Each block must be one this script knows how to
check; a new example for the server that is not checked here fails.
js blocks use top-level await, so each runs inside an async function that
then prints the `users` it built.
Usage: readme_examples.py README.md SERVER_ADDRESS NODE_DIR
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys

import requests

README_SERVER = "http://127.0.0.1:8080"
CLIENT_ID = os.environ["FEED_CLIENT_ID"]
CLIENT_SECRET = os.environ["FEED_CLIENT_SECRET"]
AUTH = (CLIENT_ID, CLIENT_SECRET)


def blocks(text):
    for match in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.S | re.M):
        lang, body = match.group(1), match.group(2)
        if lang in ("sh", "python", "js") and README_SERVER + "/api/demo/main/" in body:
            yield lang, body, text.count("\n", 0, match.start()) + 1


def run(cmd, cwd, what, line, **extra_env):
    env = dict(os.environ, ID=CLIENT_ID, SECRET=CLIENT_SECRET, **extra_env)
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, "README.md:%d (%s) failed\n--- stdout\n%s\n--- stderr\n%s" % (
        line, what, done.stdout, done.stderr)
    return done.stdout


def feed(root, path, **params):
    response = requests.get(root + path, params=params, auth=AUTH)
    assert response.status_code == 200, (response.url, response.text)
    return response


def main(readme, address, node_dir):
    root = address.rstrip("/") + "/api/demo/main/odata/"
    work = os.path.join(node_dir, "readme")  # under node_dir: npx and require find its node_modules
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    python = sys.executable  # the venv with requests and python-odata
    checked = []
    text = open(readme, encoding="utf-8").read()
    for lang, body, line in blocks(text):
        code = body.replace(README_SERVER, address.rstrip("/"))
        if lang == "sh" and "/\\$batch" in body:
            what = "$batch: a read, then a change set that creates a user and deletes it by its Content-ID"
            before = int(feed(root, "Users/$count").text)
            printed = run(["bash", "-euo", "pipefail", "-c", code], work, what, line).split()
            assert printed == ["200", "201", "204"], printed
            assert int(feed(root, "Users/$count").text) == before, "the example deletes what it created"
        elif lang == "sh" and "odata.track-changes" in body:
            what = "delta links: track a key, create the user, follow the link, delete, follow it again"
            before = int(feed(root, "Users/$count").text)
            printed = run(["bash", "-euo", "pipefail", "-c", code], work, what, line).split()
            assert printed == ["delta.demo", "204", "deleted"], printed
            assert int(feed(root, "Users/$count").text) == before, "the example deletes what it created"
        elif lang == "sh" and "@odata.bind" in body:
            what = "feed writes: create with a bind, PATCH with its ETag (204), the stale ETag (412), DELETE (204)"
            before = int(feed(root, "Users/$count").text)
            printed = run(["bash", "-euo", "pipefail", "-c", code], work, what, line).split()
            assert printed == ["204", "412", "204"], printed
            assert int(feed(root, "Users/$count").text) == before, "the example deletes what it created"
        elif lang == "sh" and "If-Match" in body:
            what = "ETags: a conditional read (304), a write with the ETag (200), the same write again (412)"
            token = requests.post(address.rstrip("/") + "/connect/token", auth=AUTH,
                                  data={"grant_type": "client_credentials"}).json()["access_token"]
            printed = run(["bash", "-euo", "pipefail", "-c", code], work, what, line, TOKEN=token).split()
            assert len(printed) == 4 and re.fullmatch(r'"[0-9]+"', printed[0]), printed
            assert printed[1:] == ["304", "200", "412"], printed
        elif lang == "sh" and "/explain/Users" in body:
            what = "explain with an identity.admin token: AST, SQL on every backend, plan, cost, timings"
            answer = json.loads(run(["bash", "-euo", "pipefail", "-c", code], work, what, line))
            assert answer["valid"] is True and answer["ast"]["filter"], answer
            assert set(answer["sql"]) == {"sqlite", "postgres", "mysql"}, answer["sql"]
            assert answer["plan"] and all(p["lines"] for p in answer["plan"]), answer["plan"]
            assert answer["cost"]["withinBudget"] is True, answer["cost"]
        elif lang == "sh" and "connect/token" in body and "--data-urlencode" in body:
            what = "quick start: token, then curl --data-urlencode on users/odata"
            answer = json.loads(run(["bash", "-euo", "pipefail", "-c", code], work, what, line))
            expected = int(feed(root, "Users/$count", **{
                "$filter": "status eq 1 and roles/any(r: r/roleKey eq 'technician')"}).text)
            assert answer["count"] == expected > 0, (answer["count"], expected)
            assert len(answer["items"]) == min(3, expected), answer
            assert all(set(u) >= {"userKey", "name", "email"} for u in answer["items"]), answer
        elif lang == "sh" and body.startswith("B=") and "$TOKEN" in body:
            # API 1's variables, then the table's one query-string example
            # (the row "list users (OData options)"), with a fresh token.
            what = "API 1 table: list users, curl --data-urlencode"
            row = re.search(r"^\| list users \(OData options\) \| `([^`]*)` \|", text, re.M).group(1)
            token = requests.post(address.rstrip("/") + "/connect/token", auth=AUTH,
                                  data={"grant_type": "client_credentials"}).json()["access_token"]
            answer = json.loads(run(["bash", "-euo", "pipefail", "-c", code + row], work, what, line,
                                    TOKEN=token))
            names = [u["name"] for u in answer["items"]]
            expected = int(feed(root, "Users/$count", **{"$filter": "contains(tolower(name),'silva')"}).text)
            assert answer["count"] == expected > 0 and len(names) == min(expected, 100), (answer["count"], expected)
            assert all("silva" in n.lower() for n in names), names
        elif lang == "sh" and "generate-odata-client" in body:
            what = "SAP Cloud SDK generator: curl $metadata, npx generate-odata-client"
            run(["bash", "-euo", "pipefail", "-c", code], work, what, line)
            assert os.path.exists(os.path.join(work, "generated/identity/index.js")), \
                "no generated/identity/index.js (the next example requires it)"
        elif lang == "python" and "requests.get(url, params=params" in body:
            what = "Python requests with params= following nextLinks"
            printed = int(run([python, "-c", code], work, what, line).strip())
            params = re.search(r'params = (\{.*?\})\n', body, re.S).group(1)
            expected = int(feed(root, "Users/$count", **{"$filter": ast.literal_eval(params)["$filter"]}).text)
            assert printed == expected > 0, (printed, expected)
        elif lang == "python" and "ODataService" in body:
            what = "python-odata"
            # (without quiet_progress its reflection progress prints blank lines)
            lines = [l for l in run([python, "-c", code], work, what, line).splitlines() if l.strip()]
            first = feed(root, "Users", **{"$filter": "status eq 1", "$orderby": "userKey",
                                           "$select": "userKey", "$top": "10"}).json()["value"]
            assert [l.split(" ")[0] for l in lines] == [u["userKey"] for u in first], lines
        elif lang == "js" and "requestBuilder()" in body:
            what = "SAP Cloud SDK typed client"
            wrapped = "(async () => {\n%s\nconsole.log(JSON.stringify(users.map(u => u.userKey)));\n})()" \
                      ".catch(e => { console.error(e.stack || e); process.exit(1); });" % code
            keys = json.loads(run(["node", "-e", wrapped], work, what, line))
            first = feed(root, "Users", **{"$filter": "status eq 1", "$orderby": "userKey",
                                           "$select": "userKey", "$top": "10"}).json()["value"]
            assert keys == [u["userKey"] for u in first], keys
        elif lang == "js" and "fetch(url" in body:
            what = "JavaScript fetch following nextLinks"
            wrapped = "(async () => {\n%s\nconsole.log(JSON.stringify(users));\n})()" \
                      ".catch(e => { console.error(e.stack || e); process.exit(1); });" % code
            users = json.loads(run(["node", "-e", wrapped], work, what, line))
            total = int(feed(root, "Users/$count").text)
            assert len(users) == total and len({u["id"] for u in users}) == total, (len(users), total)
        else:
            raise AssertionError("README.md:%d: a %s example for the server that this script does not "
                                 "run; add a check for it\n%s" % (line, lang, body))
        checked.append("README.md:%d %s" % (line, what))
    kinds = len(checked)
    assert kinds == 12, "expected the README's 12 client examples, ran %d: %s" % (kinds, checked)
    for c in checked:
        print("  ran " + c)
    print("README examples: %d client examples run as written agree with the feed" % kinds)


if __name__ == "__main__":
    main(*sys.argv[1:4])
