#!/usr/bin/env python3
"""Does the ceiling answer exactly what our server answers?

    check.py OURS_ROOT CEILING_ROOT [QUERIES] [--bytes] [--out REPORT.md]

OURS_ROOT / CEILING_ROOT are the two service roots on loopback, e.g.
http://127.0.0.1:8080/api/bench/main/odata. QUERIES defaults to
queries-ceiling.txt next to this file (id<TAB>relative URL). Our server gets
the header line in AUTH_OURS (as for ../check.py); the ceiling gets none, and
our server's Host header (host:port of OURS_ROOT), so that the absolute URLs
both write (@odata.context, @odata.nextLink, picture) are the same.

For every query, both answers are fetched once and compared:

- always: HTTP status, Content-Type, and the answer itself: `Users/$count`
  byte for byte, JSON documents as parsed JSON (order of object keys
  ignored, order of rows kept), the `$skiptoken` value in
  `@odata.nextLink` masked (the ceiling writes its own opaque token);
- always, the bytes in the TARGET format: our answer re-serialized with
  its properties in `$metadata` declaration order (envelope:
  @odata.context, @odata.count, value, @odata.nextLink; a user: @odata.etag,
  id, then the declared properties) must equal the ceiling's bytes. Python writes
  JSON here exactly as serde_json does (compact, UTF-8 as is, the same
  escapes); a control makes sure of that on every answer: our answer
  re-serialized in its OWN key order must give back our exact bytes,
  otherwise the comparison is reported as inconclusive (a failure);
- with --bytes: our raw bytes must equal the ceiling's raw bytes (skiptoken
  masked). Use it once our server writes declaration order itself.

Exit status 1 if any comparison failed. Writes a markdown report to stdout
(or --out).
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchhttp import auth_headers  # noqa: E402

import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402

LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")

# crates/identity-service/src/odata/schema.rs, users(): $metadata declaration order.
USER_ORDER = [
    "@odata.etag", "id", "userKey", "name", "culture", "email", "isTechnician", "lastLogin", "status",
    "picture", "isActive", "isSystem", "isDeleted", "createdBy", "createdOn", "modifiedBy",
    "modifiedOn", "version",
]
ENVELOPE_ORDER = ["@odata.context", "@odata.count", "value", "@odata.nextLink"]
TOKEN = re.compile(r"(\$skiptoken=)[^\"&]*")


def get(url, headers):
    """(status, content type, body bytes), error statuses included."""
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def dump(doc):
    """JSON as serde_json's to_string writes it."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ordered(obj, order):
    keys = [k for k in order if k in obj] + [k for k in obj if k not in order]
    return {k: obj[k] for k in keys}


def declaration_order(doc):
    out = ordered(doc, ENVELOPE_ORDER)
    if isinstance(out.get("value"), list):
        out["value"] = [ordered(u, USER_ORDER) if isinstance(u, dict) else u for u in out["value"]]
    return out


def mask(data):
    return TOKEN.sub(lambda m: m.group(1) + "<token>", data.decode("utf-8", "replace")).encode("utf-8")


def mask_doc(doc):
    if isinstance(doc, dict) and isinstance(doc.get("@odata.nextLink"), str):
        doc = dict(doc)
        doc["@odata.nextLink"] = TOKEN.sub(r"\1<token>", doc["@odata.nextLink"])
    return doc


def first_difference(a, b):
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, n - 60)
    return (f"first difference at byte {n} (lengths {len(a)} / {len(b)}): "
            f"ours …{a[lo:n + 60]!r}… ceiling …{b[lo:n + 60]!r}…")


def compare(qid, ours, ceiling, raw_bytes):
    """(summary, [problems])."""
    (s1, t1, b1), (s2, t2, b2) = ours, ceiling
    problems = []
    if s1 != 200 or s2 != 200:
        problems.append(f"HTTP {s1} (ours) / {s2} (ceiling): {b1[:200]!r} / {b2[:200]!r}")
        return "", problems
    if t1 != t2:
        problems.append(f"Content-Type {t1!r} (ours) / {t2!r} (ceiling)")
    if not t1.startswith("application/json"):
        if b1 != b2:
            problems.append(f"body {b1[:80]!r} (ours) / {b2[:80]!r} (ceiling)")
        return f"`{b1[:40].decode('utf-8', 'replace')}`", problems
    d1, d2 = json.loads(b1), json.loads(b2)
    rows = len(d1.get("value", []))
    summary = f"{rows} rows, {len(b1)} B" + (", nextLink" if "@odata.nextLink" in d1 else "")
    if mask_doc(d1) != mask_doc(d2):
        problems.append("parsed JSON differs")
        v1, v2 = d1.get("value", []), d2.get("value", [])
        if sorted(k for k in d1 if k != "value") != sorted(k for k in d2 if k != "value"):
            problems.append(f"envelope keys {sorted(d1)} / {sorted(d2)}")
        for i, (u1, u2) in enumerate(zip(v1, v2)):
            if u1 != u2:
                absent = "<absent>"
                diff = sorted(k for k in set(u1) | set(u2) if u1.get(k, absent) != u2.get(k, absent))
                pairs = [f"{k}: {u1.get(k, absent)!r} / {u2.get(k, absent)!r}" for k in diff[:4]]
                problems.append(f"row {i} ({u1.get('id')}): " + ", ".join(pairs))
                if len(problems) > 8:
                    break
        if len(v1) != len(v2):
            problems.append(f"{len(v1)} rows (ours) / {len(v2)} rows (ceiling)")
    if dump(d1) != b1:
        problems.append("inconclusive: Python does not re-serialize our answer to our bytes: "
                        + first_difference(b1, dump(d1)))
    else:
        target = mask(dump(declaration_order(d1)))
        if target != mask(b2):
            problems.append("ceiling bytes differ from ours in declaration order: "
                            + first_difference(target, mask(b2)))
    if raw_bytes and mask(b1) != mask(b2):
        problems.append("--bytes: raw bytes differ: " + first_difference(mask(b1), mask(b2)))
    return summary, problems


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    raw_bytes = "--bytes" in sys.argv
    out = None
    if "--out" in sys.argv:
        out = sys.argv[sys.argv.index("--out") + 1]
        args.remove(out)
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    ours_root, ceiling_root = (a.rstrip("/") for a in args[:2])
    qfile = args[2] if len(args) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..", "queries-ceiling.txt")
    for root in (ours_root, ceiling_root):
        if not root.startswith(LOOPBACK):
            sys.exit(f"refusing non-loopback URL {root}")
    with open(qfile, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    headers = auth_headers("ours")
    ours_host = urllib.parse.urlsplit(ours_root).netloc
    report = ["# Ceiling vs ours: the same answers?", "",
              f"- ours: {ours_root}; ceiling: {ceiling_root}; queries: {qfile}",
              f"- comparisons: status, Content-Type, parsed JSON (skiptoken masked), bytes in "
              f"declaration order{', raw bytes (--bytes)' if raw_bytes else ''}", "",
              "| id | ours answer | verdict |", "|---|---|---|"]
    details, bad = [], 0
    for line in lines:
        qid, rel = line.split("\t", 1)
        rel = rel.replace(" ", "%20")
        ours = get(f"{ours_root}/{rel}", headers)
        # Absolute URLs in the answers (context, nextLink, picture) follow the Host header:
        # the ceiling is asked with our server's, so both write the same URLs.
        ceiling = get(f"{ceiling_root}/{rel}", {"Host": ours_host})
        summary, problems = compare(qid, ours, ceiling, raw_bytes)
        report.append(f"| {qid} | {summary} | {'same' if not problems else 'DIFFERENT'} |")
        if problems:
            bad += 1
            details += ["", f"## {qid}", ""] + [f"- {p}" for p in problems]
    text = "\n".join(report + details) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print(f"ceiling check: {len(lines) - bad} of {len(lines)} queries answered the same", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
