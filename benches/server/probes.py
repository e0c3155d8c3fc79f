#!/usr/bin/env python3
"""OData semantics where the peers README says CAP differs (or where servers commonly do),
asked of both servers; the expected answer is computed from the CSVs.

    probes.py DATA_DIR NAME=BASE_URL [NAME=BASE_URL ...] > probes.md

Each probe: a relative URL, what OData asks for, and the check. Loopback only.
Credentials: AUTH_<NAME> in the environment (NAME upper-cased, e.g. AUTH_OURS) is a full header
line ("Authorization: Basic ...") sent with every request to that server.
"""

import csv
import json
import os
import sys

from benchhttp import auth_headers, fetch

LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(os.path.join(sys.argv[1], "peer.users-Users.csv"), newline="", encoding="utf-8") as f:
        users = list(csv.DictReader(f))
    servers = []
    for spec in sys.argv[2:]:
        name, base = spec.split("=", 1)
        if not base.startswith(LOOPBACK):
            sys.exit(f"refusing non-loopback base URL {base}")
        servers.append((name, base.rstrip("/"), auth_headers(name)))

    logins = sorted(u["lastLogin"] for u in users if u["lastLogin"])
    alvarez = sum(1 for u in users if "álvarez" in u["name"].lower())
    exact_lower = sum(1 for u in users if u["name"] == "matthew allen")

    def count(doc):
        return doc.get("@odata.count")

    def first(prop):
        return lambda doc: doc["value"][0].get(prop) if doc.get("value") else "no rows"

    probes = [
        ("top_negative", "Users?$top=-1", "400 ($top must be a non-negative integer)",
         lambda st, doc: st == 400, lambda st, doc: f"HTTP {st}" + (f", {len(doc['value'])} rows" if st == 200 else "")),
        ("tolower_unicode", "Users?$filter=contains(tolower(name),'%C3%A1lvarez')&$count=true&$top=1",
         f"@odata.count {alvarez} (tolower('Álvarez') is 'álvarez')",
         lambda st, doc: st == 200 and count(doc) == alvarez, lambda st, doc: f"HTTP {st}, @odata.count {count(doc)}"),
        ("case_sensitive_eq", "Users?$filter=name%20eq%20'matthew%20allen'&$count=true&$top=1",
         f"@odata.count {exact_lower} ('Matthew Allen' is not equal)",
         lambda st, doc: st == 200 and count(doc) == exact_lower, lambda st, doc: f"HTTP {st}, @odata.count {count(doc)}"),
        ("nulls_first_asc", "Users?$orderby=lastLogin&$top=1&$select=lastLogin", "null (nulls sort first ascending)",
         lambda st, doc: st == 200 and first("lastLogin")(doc) is None,
         lambda st, doc: f"HTTP {st}, {json.dumps(first('lastLogin')(doc))}"),
        ("nulls_last_desc", "Users?$orderby=lastLogin%20desc&$top=1&$select=lastLogin", f"{logins[-1]} (nulls last descending)",
         lambda st, doc: st == 200 and isinstance(first("lastLogin")(doc), str) and first("lastLogin")(doc)[:19] == logins[-1][:19],
         lambda st, doc: f"HTTP {st}, {json.dumps(first('lastLogin')(doc))}"),
        ("page_cap", "Users?$top=5000&$select=userKey", "1000 rows and an @odata.nextLink (server page size 1000)",
         lambda st, doc: st == 200 and len(doc["value"]) == 1000 and "@odata.nextLink" in doc,
         lambda st, doc: f"HTTP {st}, {len(doc.get('value', []))} rows, nextLink {'yes' if '@odata.nextLink' in doc else 'no'}"),
        ("select_adds_key", "Users?$select=name&$top=1", "name (the key may be added)",
         lambda st, doc: st == 200 and "name" in doc["value"][0],
         lambda st, doc: f"HTTP {st}, properties {sorted(k for k in doc['value'][0] if not k.startswith('@'))}" if st == 200 else f"HTTP {st}"),
    ]
    print("| probe | query | OData asks for | " + " | ".join(f"{n}" for n, _, _ in servers) + " |")
    print("|---|---|---|" + "---|" * len(servers))
    for pid, rel, want, ok, show in probes:
        cells = []
        for _, base, headers in servers:
            st, body = fetch(f"{base}/{rel}", headers)
            try:
                doc = json.loads(body)
            except ValueError:
                doc = {}
            try:
                verdict = "ok" if ok(st, doc) else "**differs**"
                cells.append(f"{show(st, doc)}: {verdict}")
            except (KeyError, IndexError, TypeError) as e:
                cells.append(f"HTTP {st}, unexpected body ({type(e).__name__}): **differs**")
        print(f"| {pid} | `{rel}` | {want} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
