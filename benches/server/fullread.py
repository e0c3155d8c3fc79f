#!/usr/bin/env python3
"""Read a whole entity set the way a BI tool does: GET the first URL, follow @odata.nextLink
until there is none. Prints rows, pages, distinct keys, seconds, and the slowest page.

    fullread.py URL        e.g. fullread.py 'http://127.0.0.1:4004/odata/v4/users/Users'

Loopback only. Exit 1 if a page is not 200 or a key comes back twice.
AUTH_HEADER in the environment, if set, is a full header line ("Authorization: Basic ...") sent
with every page request (nextLinks stay on the same loopback host).
"""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

url = sys.argv[1] if len(sys.argv) == 2 else sys.exit(__doc__)
if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("refusing a non-loopback URL")
headers = {}
if os.environ.get("AUTH_HEADER"):
    hname, sep, hvalue = os.environ["AUTH_HEADER"].partition(":")
    if not sep or not hname.strip():
        sys.exit("AUTH_HEADER is not a header line 'Name: value'")
    headers[hname.strip()] = hvalue.strip()
rows = pages = 0
keys = set()
slowest = 0.0
t0 = time.perf_counter()
while url:
    if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"nextLink leaves loopback: {url}")
    p0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as r:
        if r.status != 200:
            sys.exit(f"HTTP {r.status} on page {pages + 1}")
        doc = json.load(r)
    slowest = max(slowest, time.perf_counter() - p0)
    pages += 1
    for row in doc["value"]:
        keys.add(row.get("id", row.get("ID")))
    rows += len(doc["value"])
    url = doc.get("@odata.nextLink")
    if url and not url.startswith("http"):  # a relative nextLink (CAP): resolve against the request
        url = urllib.parse.urljoin(r.url, url)
secs = time.perf_counter() - t0
print(f"rows={rows} pages={pages} distinct_keys={len(keys)} secs={secs:.2f} slowest_page_s={slowest:.3f}")
sys.exit(0 if len(keys) == rows else 1)
