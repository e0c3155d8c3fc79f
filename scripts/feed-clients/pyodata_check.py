"""Reads the feed with the python-odata client (unpatched): it reflects the
model from $metadata, then queries Users with a filter, ordering and a
limit, follows nextLinks through every page, reads a navigation property,
expands it, gets one user by key, and filters the DateTimeOffset lastLogin
with a +01:00 offset (printing the URL python-odata sent for it), then
creates a user and updates it (and deletes it). Every result is compared with what the
feed answers to plain HTTP requests. Both authenticate with HTTP Basic (the
client id and secret in FEED_CLIENT_ID / FEED_CLIENT_SECRET), as BI tools do.
Usage: pyodata_check.py FEED_ROOT_URL
"""
import base64
import json
import os
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

import requests
from odata import ODataService

CLIENT_ID = os.environ["FEED_CLIENT_ID"]
CLIENT_SECRET = os.environ["FEED_CLIENT_SECRET"]


def plain(url):
    credentials = base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": "Basic " + credentials})
    with urllib.request.urlopen(request) as response:
        return response.read().decode()


def main(root):
    root = root.rstrip("/") + "/"
    # Without credentials the feed refuses, and says how to authenticate.
    anonymous = requests.get(root + "Users")
    assert anonymous.status_code == 401, anonymous.status_code
    assert "Basic" in anonymous.headers.get("WWW-Authenticate", ""), anonymous.headers
    auth = requests.auth.HTTPBasicAuth(CLIENT_ID, CLIENT_SECRET)
    # The session only records the URLs python-odata sends (a response hook).
    session = requests.Session()
    sent = []
    session.hooks["response"].append(lambda r, *args, **kwargs: sent.append(r.request.url))
    service = ODataService(root, reflect_entities=True, quiet_progress=True,
                           session=session, auth=auth)
    assert sorted(service.entities) == ["Groups", "Roles", "Users"], service.entities
    User = service.entities["Users"]

    total = int(plain(root + "Users/$count"))
    active = int(plain(root + "Users/$count?$filter=status%20eq%201"))
    assert total > 0 and active > 0, (total, active)

    # filter + orderby + top
    first = list(service.query(User).filter(User.status == 1).order_by(User.userKey.asc()).limit(5))
    keys = [u.userKey for u in first]
    assert len(first) == min(5, active), keys
    assert keys == sorted(keys), keys
    assert all(u.status == 1 for u in first)

    # every page through nextLinks, each user once
    everyone = list(service.query(User))
    ids = [u.id for u in everyone]
    assert len(ids) == total and len(set(ids)) == total, (len(ids), len(set(ids)), total)
    page = json.loads(plain(root + "Users?$select=id"))
    assert "@odata.nextLink" in page, "the check needs more than one page (set APP_FEED_PAGE_SIZE)"

    # navigation, expand and get by key
    user = first[0]
    related = sorted(r.roleKey for r in user.roles)
    expected = json.loads(plain(root + "Users(%s)/roles?$select=roleKey" % user.id))
    assert related == sorted(r["roleKey"] for r in expected["value"]), related
    expanded = service.query(User).expand(User.roles).filter(User.userKey == user.userKey).first()
    assert sorted(r.roleKey for r in expanded.roles) == related
    again = service.query(User).get(user.id)
    assert again.name == user.name and again.createdOn is not None

    # DateTimeOffset with a +01:00 offset, through python-odata's own query
    # API. The threshold is the lastLogin of the 50th most recent login
    # (truncated to the second), so the answer is neither empty nor
    # everyone, and reading the offset wrongly (dropping it) would lose that
    # user. The same instant written with Z, sent by requests with params=,
    # must give the same users.
    pivot = json.loads(plain(root + "Users?$select=id,lastLogin&$orderby=lastLogin%20desc&$skip=49&$top=1"))["value"][0]
    instant = datetime.fromisoformat(pivot["lastLogin"].replace("Z", "+00:00")).replace(microsecond=0)
    plus_one = timezone(timedelta(hours=1))
    local = instant.astimezone(plus_one)  # e.g. 2026-10-31T12:42:22+01:00
    assert local.isoformat().endswith("+01:00"), local

    def with_params(filter_text):
        ids, url, params = set(), root + "Users", {"$filter": filter_text, "$select": "id"}
        while url:
            response = requests.get(url, params=params, auth=auth)
            assert response.status_code == 200, (response.url, response.status_code, response.text)
            page = response.json()
            ids |= {u["id"] for u in page["value"]}
            url, params = page.get("@odata.nextLink"), None
        return ids

    zulu = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = with_params("lastLogin ge " + zulu)
    assert pivot["id"] in expected and 50 <= len(expected) < total, (len(expected), total)
    # Dropping the offset (its wall-clock time read as UTC) loses the pivot.
    wrong = with_params("lastLogin ge " + local.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert pivot["id"] not in wrong, "the check must tell +01:00 from Z"

    query = service.query(User).filter(User.lastLogin >= local)
    del sent[:]
    got = {u.id for u in query}
    offset_url = sent[0]
    assert got == expected, (offset_url, len(got), len(expected))
    # python-odata percent-encodes the option values itself (urlencode with
    # quote): the offset's + goes out as %2B, the spaces as %20.
    assert "%2B01%3A00" in offset_url, offset_url
    print("python-odata sent (lastLogin ge %s): %s" % (local.isoformat(), offset_url))

    # What python-odata *displays* for the same query (str(query), its
    # as_string()) is not encoded: a raw + and spaces. Pasted into requests,
    # the spaces are quoted and the + stays raw, so the feed reads a space
    # and answers 400 with the hint to write %2B.
    shown = str(query)
    assert "+01:00" in shown, shown
    pasted = requests.get(shown, auth=auth)
    assert pasted.status_code == 400 and "%2B" in pasted.text, (pasted.url, pasted.status_code, pasted.text)
    print("python-odata str(query) pasted into requests.get: %s -> %d %s"
          % (pasted.url, pasted.status_code, pasted.json()["error"]["message"]))

    # Create and update through python-odata's own API (POST, then PATCH of
    # the changed property), checked with plain requests; then removed.
    new = User()
    new.userKey = "py.crud"
    new.name = "Py Crud"
    new.isTechnician = False
    service.save(new)
    created_id = new.id
    assert created_id, "the created user's id is read back"
    stored = json.loads(plain(root + "Users(%s)?$select=userKey,name,version" % new.id))
    assert (stored["userKey"], stored["name"], stored["version"]) == ("py.crud", "Py Crud", 1), stored
    new.name = "Py Crud renamed"
    service.save(new)
    stored = json.loads(plain(root + "Users(%s)?$select=name,version" % new.id))
    assert (stored["name"], stored["version"]) == ("Py Crud renamed", 2), stored
    service.delete(new)
    assert requests.get(root + "Users(%s)" % created_id, auth=auth).status_code == 404
    print("python-odata: create and update (and delete) agree with the feed")

    print("python-odata: %d users over several pages, filter/orderby/top, navigation, "
          "expand, get by key and a lastLogin filter with a +01:00 offset (%d users) "
          "all agree with the feed" % (total, len(expected)))


if __name__ == "__main__":
    main(sys.argv[1])
