#!/usr/bin/env python3
"""Correctness check of the benchmark queries against the generated data.

    check.py DATA_DIR OUT.md NAME=BASE_URL=QUERIES [NAME=BASE_URL=QUERIES ...]

DATA_DIR is the output of `odata-users generate` (or gen_users.py: the same five peer.users-*.csv files).
For every server, every query of its query file is sent once (curl-like,
plain urllib, loopback only) and its FULL answer (not the 3-row excerpt
bench_wrk.sh saves) is compared with what a reference evaluation over the
CSV files says it must be: HTTP status, row count, the ids in order,
@odata.count, the selected properties, the expanded roles, and the values
of the returned properties against the CSV row of that id.

The reference evaluation follows OData semantics (order by key when there
is no $orderby, key as tie-breaker; strings compared by code point;
tolower() is Unicode lower-casing). The key property is `id` or `ID`,
whichever the answer uses. Writes a markdown report and exits 1 if any
server answered a query wrongly (so run.sh can flag it; the benchmark
numbers are still written).

Credentials: if the environment has AUTH_<NAME> (NAME upper-cased, e.g. AUTH_OURS), its value is a
full header line ("Authorization: Basic ...") sent with every request to that server (taken from
the environment so the secret is not on a command line).
"""

import csv
import datetime as dt
import json
import os
import re
import sys

from benchhttp import auth_headers, fetch

LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


def load(data_dir):
    def rows(name):
        with open(os.path.join(data_dir, f"peer.users-{name}.csv"), newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    users = rows("Users")
    for u in users:
        u["status"] = int(u["status"])
        u["isTechnician"] = u["isTechnician"] == "true"
        u["isActive"] = u["isActive"] == "true" if u["isActive"] else None
        for k in ("culture", "email", "picture", "lastLogin"):
            if u[k] == "":
                u[k] = None
        u["_lastLogin"] = ts(u["lastLogin"]) if u["lastLogin"] else None
    roles = {r["ID"]: r for r in rows("Roles")}
    user_roles = {}
    for link in rows("UserRoles"):
        user_roles.setdefault(link["user_ID"], set()).add(link["role_ID"])
    return users, roles, user_roles


def ts(text):
    """An ISO 8601 timestamp (Z or offset, any fraction) as an aware datetime."""
    t = text.replace("Z", "+00:00")
    # Python 3.11 reads up to 6 fractional digits; OData allows 7 (CAP's Precision 7)
    if "." in t:
        head, rest = t.split(".", 1)
        digits = re.match(r"[0-9]*", rest).group(0)
        tz = rest[len(digits):]
        t = f"{head}.{(digits + '000000')[:6]}{tz}"
    return dt.datetime.fromisoformat(t)


def expected(qid, users, roles, user_roles):
    """(ordered list of users, @odata.count or None, scalar or None, extra checks)."""
    by_key = sorted(users, key=lambda u: u["ID"])
    cut = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    admin = next(r["ID"] for r in roles.values() if r["roleKey"] == "admin")
    table = {
        "page100": lambda: by_key[:100],
        "key_eq": lambda: [u for u in by_key if u["userKey"] == "matthew.allen.50000"],
        "contains_ci": lambda: [u for u in by_key if "silva" in u["name"].lower()][:100],
        "status_and_tech": lambda: [u for u in by_key if u["status"] == 1 and u["isTechnician"]][:100],
        "status_or_and": lambda: [
            u for u in by_key if u["status"] in (3, 4) and not u["isTechnician"]
        ][:100],
        "lastlogin_ge": lambda: [
            u for u in by_key if u["_lastLogin"] is not None and u["_lastLogin"] >= cut
        ][:100],
        "orderby_skip": lambda: sorted(users, key=lambda u: (u["name"], u["ID"]))[1000:1050],
        "select3": lambda: by_key[:100],
        "count_filter": lambda: [u for u in by_key if u["status"] == 1][:100],
        "expand_roles": lambda: by_key[:100],
        "expand_roles_deep": lambda: by_key[:100],
        "any_role": lambda: [u for u in by_key if admin in user_roles.get(u["ID"], ())][:100],
        "deep_skip": lambda: by_key[90000:90100],
    }
    if qid == "count_path":
        return None, None, len(users)
    if qid not in table:
        raise KeyError(f"no reference evaluation for query id {qid}")
    count = sum(1 for u in users if u["status"] == 1) if qid == "count_filter" else None
    return table[qid](), count, None


def same_value(want, got):
    if want is None:
        return got is None
    if isinstance(want, dt.datetime):
        return isinstance(got, str) and ts(got) == want
    return want == got


def check_row(qid, row, want, roles, user_roles):
    """Problems of one returned row (a dict) against its CSV user."""
    problems = []
    props = {"userKey", "name", "culture", "isTechnician", "email", "status", "lastLogin"}
    if qid == "select3":
        data_keys = {k for k in row if not k.startswith("@") and k not in ("id", "ID")}
        if data_keys != {"userKey", "name", "email"}:
            problems.append(f"$select=userKey,name,email returned properties {sorted(data_keys)}")
        props = {"userKey", "name", "email"}
    for p in sorted(props):
        if p not in row:
            if qid != "select3" or p in ("userKey", "name", "email"):
                problems.append(f"{p} missing")
            continue
        w = want["_lastLogin"] if p == "lastLogin" else want[p]
        if not same_value(w, row[p]):
            problems.append(f"{p}: {row[p]!r}, CSV has {want[p]!r}")
    if qid in ("expand_roles", "expand_roles_deep"):
        got = row.get("roles")
        if not isinstance(got, list):
            return problems + ["roles not expanded"]
        want_ids = user_roles.get(want["ID"], set())
        ids = set()
        for item in got:
            if "role" in item:  # CAP link row (user_ID, role_ID[, role])
                rid = item.get("role_ID")
                if qid == "expand_roles_deep":
                    role = item.get("role") or {}
                    if role.get("ID") != rid or role.get("roleKey") != roles.get(rid, {}).get("roleKey"):
                        problems.append(f"expanded role {rid} wrong: {role}")
            elif "role_ID" in item:
                rid = item["role_ID"]
            else:  # our Role entity
                rid = item.get("id")
                if qid == "expand_roles_deep" and item.get("roleKey") != roles.get(rid, {}).get("roleKey"):
                    problems.append(f"expanded role {rid} has roleKey {item.get('roleKey')!r}")
            ids.add(rid)
        if ids != want_ids or len(got) != len(want_ids):
            problems.append(f"roles {sorted(ids)} ({len(got)} items), expected {sorted(want_ids)}")
    return problems


def check(name, base, qfile, users, roles, user_roles):
    by_id = {u["ID"]: u for u in users}
    results = []
    with open(qfile, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    headers = auth_headers(name)
    for line in lines:
        qid, rel = line.split("\t", 1)
        url = base.rstrip("/") + "/" + rel.replace(" ", "%20")
        status, body = fetch(url, headers)
        want_rows, want_count, want_scalar = expected(qid, users, roles, user_roles)
        problems, summary = [], ""
        if status != 200:
            problems.append(f"HTTP {status}: {body[:200]!r}")
        elif want_scalar is not None:
            text = body.decode("utf-8", "replace").strip()
            summary = f"`{text}`"
            if text != str(want_scalar):
                problems.append(f"answered {text!r}, expected {want_scalar}")
        else:
            doc = json.loads(body)
            rows = doc.get("value", [])
            key = "id" if rows and "id" in rows[0] else "ID"
            got_ids = [r.get(key) for r in rows]
            want_ids = [u["ID"] for u in want_rows]
            summary = f"{len(rows)} rows"
            if want_count is not None:
                summary += f", @odata.count {doc.get('@odata.count')}"
                if doc.get("@odata.count") != want_count:
                    problems.append(f"@odata.count {doc.get('@odata.count')}, expected {want_count}")
            if got_ids != want_ids:
                if sorted(got_ids) == sorted(want_ids):
                    problems.append("right rows, wrong order")
                else:
                    missing = len(set(want_ids) - set(got_ids))
                    extra = len(set(got_ids) - set(want_ids))
                    problems.append(
                        f"{len(rows)} rows, expected {len(want_ids)} ({missing} missing, {extra} unexpected)"
                    )
            if "@odata.nextLink" in doc:
                problems.append("unexpected @odata.nextLink (the query asks for at most 100 rows)")
            for r in rows:
                u = by_id.get(r.get(key))
                if u is None:
                    continue
                for p in check_row(qid, r, u, roles, user_roles):
                    problems.append(f"{r.get(key)}: {p}")
        results.append((qid, status, summary, problems))
    return results


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    data_dir, out = sys.argv[1], sys.argv[2]
    users, roles, user_roles = load(data_dir)
    servers = []
    for spec in sys.argv[3:]:
        name, rest = spec.split("=", 1)
        base, qfile = rest.rsplit("=", 1)
        if not base.startswith(LOOPBACK):
            sys.exit(f"refusing non-loopback base URL {base}")
        servers.append((name, check(name, base, qfile, users, roles, user_roles)))
    bad = 0
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Correctness of the benchmark queries (full answers vs the CSV data)\n\n")
        f.write(f"- data: {data_dir} ({len(users)} users)\n\n")
        f.write("| id | " + " | ".join(f"{n} status | {n} answer | {n} verdict" for n, _ in servers) + " |\n")
        f.write("|---|" + "---|---|---|" * len(servers) + "\n")
        ids = [r[0] for r in servers[0][1]]
        for i, qid in enumerate(ids):
            cells = []
            for _, res in servers:
                _, status, summary, problems = res[i]
                verdict = "ok" if not problems else f"WRONG ({len(problems)} problem(s))"
                cells += [str(status), summary, verdict]
            f.write(f"| {qid} | " + " | ".join(cells) + " |\n")
        for name, res in servers:
            for qid, _, _, problems in res:
                if problems:
                    bad += 1
                    f.write(f"\n## {name} {qid}: {len(problems)} problem(s)\n\n")
                    for p in problems[:10]:
                        f.write(f"- {p}\n")
                    if len(problems) > 10:
                        f.write(f"- ... {len(problems) - 10} more\n")
    print(f"wrote {out}: {bad} wrong answer(s)", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
