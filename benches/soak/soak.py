#!/usr/bin/env python3
"""Hostile-load soak (issue "Hold under hostile load"): tenant A pages like a
BI tool and writes; tenant B attacks during the middle phase. Standard
library only.

  soak.py BASE_URL A_ID A_SECRET B_ID B_SECRET PID [--before S] [--during S] [--after S]

Tenant A (bench/main), all phases, paced:
  - 4 readers, each 2 feed pages/s (HTTP Basic, `Users?$top=100&$skip=<random>`),
    like a BI tool refreshing with parallel requests: 8 reads/s;
  - 1 writer, 1 create/s through API 1 (Bearer token from /connect/token).
Tenant B (evil/main), during the middle phase only:
  - 4 loops of expensive reads, back to back: the nested-lambda query the cost
    model refuses, and a filtered `$count` with `contains` that the budget
    allows (a whole-tenant scan), alternating;
  - 20 loops of HTTP Basic logins with a wrong secret for B's client id;
  - 2 loops of requests with forged `Host`-like headers (`X-Forwarded-Host`,
    `Forwarded`): every answer's links are checked for the forged host.
Reports, per phase, A's requests, p50/p99 (ms), error rate and 5xx count,
what B got (status counts), forged links seen, and the server's VmHWM.
"""
import argparse
import base64
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

EVIL = "evil.example"


def basic(i, s):
    return "Basic " + base64.b64encode(f"{i}:{s}".encode()).decode()


class Conn:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def request(self, method, path, headers=None, body=None):
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.c is not None:
                    self.c.close()
                self.c = None
                if attempt == 1:
                    return 0, b""
        return 0, b""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []  # (t, kind, status, ms)

    def add(self, kind, status, ms):
        with self.lock:
            self.rows.append((time.time(), kind, status, ms))


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("a_id")
    ap.add_argument("a_secret")
    ap.add_argument("b_id")
    ap.add_argument("b_secret")
    ap.add_argument("pid", type=int)
    ap.add_argument("--before", type=float, default=120)
    ap.add_argument("--during", type=float, default=360)
    ap.add_argument("--after", type=float, default=120)
    ap.add_argument("--users", type=int, default=20000)
    args = ap.parse_args()
    base = args.base.rstrip("/")
    path_of = lambda t, rest: urllib.parse.urlsplit(base).path + f"/api/{t}/main/" + rest
    stats = Stats()
    stop = threading.Event()
    attack = threading.Event()
    forged_seen = [0]
    start = time.time()
    t1 = start + args.before
    t2 = t1 + args.during
    t3 = t2 + args.after

    def a_reader(seed):
        rnd = random.Random(seed)
        c = Conn(base)
        h = {"Authorization": basic(args.a_id, args.a_secret)}
        nxt = time.time()
        while not stop.is_set():
            skip = rnd.randrange(0, max(1, args.users - 100))
            q = f"Users?$top=100&$skip={skip}" if skip <= 1000 else "Users?$top=100"
            t0 = time.time()
            st, _ = c.request("GET", path_of("bench", "odata/" + q), h)
            stats.add("A read", st, (time.time() - t0) * 1000)
            nxt += 0.5
            time.sleep(max(0, nxt - time.time()))

    def token(c, i, s):
        st, body = c.request(
            "POST",
            urllib.parse.urlsplit(base).path + "/connect/token",
            {"Authorization": basic(i, s), "Content-Type": "application/x-www-form-urlencoded"},
            "grant_type=client_credentials",
        )
        return json.loads(body)["access_token"] if st == 200 else None

    def a_writer():
        c = Conn(base)
        tok = token(c, args.a_id, args.a_secret)
        got = time.time()
        n = 0
        nxt = time.time()
        while not stop.is_set():
            if time.time() - got > 600:
                tok, got = token(c, args.a_id, args.a_secret), time.time()
            n += 1
            body = json.dumps({"userKey": f"soak.{int(start)}.{n}", "name": f"Soak {n}", "isTechnician": False})
            t0 = time.time()
            st, _ = c.request("POST", path_of("bench", "identity/users"),
                              {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}, body)
            stats.add("A write", st, (time.time() - t0) * 1000)
            nxt += 1.0
            time.sleep(max(0, nxt - time.time()))

    def b_expensive(seed):
        c = Conn(base)
        h = {"Authorization": basic(args.b_id, args.b_secret)}
        queries = [
            "Users?$filter=" + urllib.parse.quote("roles/any(r: r/users/any(u: contains(u/name,'zz')))"),
            "Users/$count?$filter=" + urllib.parse.quote("contains(name,'zz') or contains(email,'qq')"),
        ]
        i = seed
        while not stop.is_set():
            if not attack.is_set():
                time.sleep(0.2)
                continue
            i += 1
            t0 = time.time()
            st, _ = c.request("GET", path_of("evil", "odata/" + queries[i % 2]), h)
            stats.add("B expensive", st, (time.time() - t0) * 1000)

    def b_bad_login(seed):
        c = Conn(base)
        h = {"Authorization": basic(args.b_id, "wrong-" + str(seed))}
        while not stop.is_set():
            if not attack.is_set():
                time.sleep(0.2)
                continue
            t0 = time.time()
            st, _ = c.request("GET", path_of("evil", "odata/Users?$top=1"), h)
            stats.add("B bad login", st, (time.time() - t0) * 1000)

    def b_forged():
        c = Conn(base)
        auth = basic(args.b_id, args.b_secret)
        variants = [
            {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"},
            {"Forwarded": f"host={EVIL};proto=https"},
        ]
        i = 0
        while not stop.is_set():
            if not attack.is_set():
                time.sleep(0.2)
                continue
            i += 1
            h = dict(variants[i % 2], Authorization=auth)
            t0 = time.time()
            st, body = c.request("GET", path_of("evil", "odata/Users?$top=2"), h)
            if EVIL.encode() in body:
                forged_seen[0] += 1
            stats.add("B forged", st, (time.time() - t0) * 1000)
            time.sleep(0.1)

    hwm = [0]

    def sampler():
        while not stop.is_set():
            try:
                with open(f"/proc/{args.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm[0] = max(hwm[0], int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.5)

    threads = [threading.Thread(target=a_reader, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=a_writer))
    threads += [threading.Thread(target=b_expensive, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=b_bad_login, args=(i,)) for i in range(20)]
    threads.append(threading.Thread(target=b_forged))
    threads.append(threading.Thread(target=sampler))
    for t in threads:
        t.daemon = True
        t.start()
    time.sleep(max(0, t1 - time.time()))
    attack.set()
    time.sleep(max(0, t2 - time.time()))
    attack.clear()
    time.sleep(max(0, t3 - time.time()))
    stop.set()
    time.sleep(1)

    phases = [("before", start, t1), ("during", t1, t2), ("after", t2, t3 + 5)]
    print("| phase | A requests | A p50 ms | A p99 ms | A errors | A 5xx |")
    print("|---|---:|---:|---:|---:|---:|")
    summary = {}
    for name, lo, hi in phases:
        rows = [r for r in stats.rows if lo <= r[0] < hi and r[1].startswith("A ")]
        ms = [r[3] for r in rows]
        errors = sum(1 for r in rows if not 200 <= r[2] < 300)
        five = sum(1 for r in rows if r[2] >= 500 or r[2] == 0)
        summary[name] = (pct(ms, 50), pct(ms, 99), errors, five, len(rows))
        print(f"| {name} | {len(rows)} | {pct(ms, 50):.1f} | {pct(ms, 99):.1f} | "
              f"{errors} ({100 * errors / max(1, len(rows)):.2f} %) | {five} |")
    print()
    print("| B (during) | requests | statuses |")
    print("|---|---:|---|")
    for kind in ("B expensive", "B bad login", "B forged"):
        rows = [r for r in stats.rows if r[1] == kind]
        counts = {}
        for r in rows:
            counts[r[2]] = counts.get(r[2], 0) + 1
        print(f"| {kind} | {len(rows)} | " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + " |")
    print()
    quiet = summary["before"][1]
    during = summary["during"][1]
    print(f"- forged host seen in answers: {forged_seen[0]}")
    print(f"- server VmHWM: {hwm[0] / 1024:.0f} MiB")
    print(f"- A's p99 during ÷ before: {during / quiet:.2f} (target < 5)")
    ok = (during / quiet < 5 and all(s[3] == 0 for s in summary.values())
          and hwm[0] < 300 * 1024 and forged_seen[0] == 0)
    print(f"- targets (p99 < 5× quiet, no 5xx for A, VmHWM < 300 MiB, no forged link): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
