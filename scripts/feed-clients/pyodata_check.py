"""Reads the feed with the python-odata client (unpatched): it reflects the
model from $metadata, then queries Users with a filter, ordering and a
limit, follows nextLinks through every page, reads a navigation property,
expands it, and gets one user by key. Every result is compared with what the
feed answers to plain HTTP requests. Both authenticate with HTTP Basic (the
client id and secret in FEED_CLIENT_ID / FEED_CLIENT_SECRET), as BI tools do.
Usage: pyodata_check.py FEED_ROOT_URL
"""
import base64
import json
import os
import sys
import urllib.request

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
    service = ODataService(root, reflect_entities=True, quiet_progress=True,
                           auth=requests.auth.HTTPBasicAuth(CLIENT_ID, CLIENT_SECRET))
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

    print("python-odata: %d users over several pages, filter/orderby/top, navigation, "
          "expand and get by key all agree with the feed" % total)


if __name__ == "__main__":
    main(sys.argv[1])
