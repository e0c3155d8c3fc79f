#!/usr/bin/env python3
"""Comparison tables from the runs of run.sh.

    summarize.py RESULTS_DIR SERVER [SERVER ...]     e.g.  summarize.py results/x ours cap ceiling ours

Run k of server S is RESULTS_DIR/<k>-<S>.{tsv,log,rss} (bench_wrk.sh's TSV, its stderr with an
epoch timestamp per line, and VmRSS samples "epoch kB"). Servers measured more than once get the
MEDIAN of their runs (with an even number of runs, the mean of the middle two: with two runs,
their mean), with each run's value in parentheses. The first server named is the one the ratios
are computed for ("ours"); the reference of the two comparison tables is "cap" when it was
measured, else the second server named.

When "ceiling" (ceiling/, hand-written SQL, five queries) and/or "cap" were measured, a third
table checks the issue's targets per query, on the medians:
  fixed-cost queries (page100, key_eq, select3, status_and_tech, status_or_and, count_path):
    ours >= 70 % of the ceiling in req/s, and ours >= 3x CAP in requests per server CPU-second;
  every other query: ours >= 1.5x CAP in requests per server CPU-second.
Requests per server CPU-second is bench_wrk.sh's req_per_srv_cpu_s: the wrk run's requests
divided by the server PID's utime+stime (/proc/PID/stat) consumed during that run.

Peak RSS of a query = the largest VmRSS sample between the start of its warm-up request and
the start of the next query (so it includes the warm-up, the idle wait and the wrk run).
"""

import csv
import os
import statistics
import sys


def read_run(results, name):
    with open(os.path.join(results, f"{name}.tsv"), newline="", encoding="utf-8") as f:
        rows = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    starts = []  # (epoch, id)
    with open(os.path.join(results, f"{name}.log"), encoding="utf-8") as f:
        for line in f:
            stamp, _, text = line.rstrip("\n").partition(" ")
            if text.startswith(">> "):
                starts.append((float(stamp), text[3:].split()[0]))
    samples = []
    with open(os.path.join(results, f"{name}.rss"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                samples.append((float(parts[0]), int(parts[1])))
    for i, (t0, qid) in enumerate(starts):
        t1 = starts[i + 1][0] if i + 1 < len(starts) else float("inf")
        window = [kb for t, kb in samples if t0 <= t < t1]
        if qid in rows:
            rows[qid]["peak_rss_mib"] = max(window) / 1024 if window else None
    first = samples[0][1] / 1024 if samples else None
    last = samples[-1][1] / 1024 if samples else None
    return rows, first, last


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def cell(values, digits=0):
    """(text, central value): the median of the runs, each run in parentheses."""
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a", None
    mid = statistics.median(vals)
    if len(vals) == 1:
        return fmt(mid, digits), mid
    return f"{fmt(mid, digits)} ({' / '.join(fmt(v, digits) for v in vals)})", mid


# The targets (see the module docstring).
FIXED_COST = ("page100", "key_eq", "select3", "status_and_tech", "status_or_and", "count_path")
CEILING_SHARE = 0.70      # ours / ceiling, req/s, fixed-cost queries
CAP_FIXED = 3.0           # ours / CAP, requests per server CPU-second, fixed-cost queries
CAP_OTHER = 1.5           # ours / CAP, requests per server CPU-second, the other queries


def verdict(r, target):
    if r is None:
        return "n/a"
    return "met" if r >= target else "**MISSED**"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    results, order = sys.argv[1], sys.argv[2:]
    servers = list(dict.fromkeys(order))
    runs = {s: [] for s in servers}
    for k, s in enumerate(order, 1):
        runs[s].append((f"{k}-{s}",) + read_run(results, f"{k}-{s}"))
    a = servers[0]
    others = [s for s in servers if s != a]
    b = "cap" if "cap" in others else (others[0] if others else a)
    ids = list(runs[a][0][1].keys())

    def values(s, qid, col):
        out = []
        for _, rows, _, _ in runs[s]:
            row = rows.get(qid, {})
            # a run that completed no request has no latency (wrk prints 0)
            no_latency = col.endswith("_ms") and num(row.get("requests")) == 0
            out.append(None if no_latency else num(row.get(col)))
        return out

    def ratio(x, y):
        if not x or not y:
            return "n/a"
        r = x / y
        return f"{r:.1f}×" if r >= 0.95 else f"{r:.2g}×"

    out = []
    def how_many(s):
        n = len(runs[s])
        return ("1 run" if n == 1 else
                f"median of {n} runs" + (" = their mean" if n == 2 else " (even: mean of the middle two)" if n % 2 == 0 else ""))

    out.append(f"Runs in order: {', '.join(f'{k}-{s}' for k, s in enumerate(order, 1))}. "
               f"Values: {'; '.join(f'{s}: {how_many(s)}' for s in servers)} (each run in parentheses). Ratios: {a} ÷ {b} for req/s and "
               f"req per server CPU-s, {b} ÷ {a} for latency (above 1 = {a} better).\n")
    out.append(f"| id | {a} req/s | {b} req/s | req/s ratio | {a} p50 ms | {b} p50 ms | p50 ratio "
               f"| {a} p99 ms | {b} p99 ms | errors {a} / {b} |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for qid in ids:
        ra, ma = cell(values(a, qid, "rps"), 1)
        rb, mb = cell(values(b, qid, "rps"), 1)
        pa, pma = cell(values(a, qid, "p50_ms"), 2)
        pb, pmb = cell(values(b, qid, "p50_ms"), 2)
        qa, _ = cell(values(a, qid, "p99_ms"), 2)
        qb, _ = cell(values(b, qid, "p99_ms"), 2)
        ea = sum(int(v) for v in values(a, qid, "errors") if v is not None)
        eb = sum(int(v) for v in values(b, qid, "errors") if v is not None)
        out.append(f"| {qid} | {ra} | {rb} | **{ratio(ma, mb)}** | {pa} | {pb} | {ratio(pmb, pma)} | {qa} | {qb} | {ea} / {eb} |")

    out.append("")
    out.append(f"| id | {a} peak RSS MiB | {b} peak RSS MiB | {a} req per srv CPU-s | {b} req per srv CPU-s "
               f"| CPU-s ratio | {a} srv CPU% | {b} srv CPU% | other CPU% (max) | load1 before (max) | warm-up status {a} / {b} |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for qid in ids:
        ma_, _ = cell([rows.get(qid, {}).get("peak_rss_mib") for _, rows, _, _ in runs[a]], 1)
        mb_, _ = cell([rows.get(qid, {}).get("peak_rss_mib") for _, rows, _, _ in runs[b]], 1)
        ca, cma = cell(values(a, qid, "req_per_srv_cpu_s"), 1)
        cb, cmb = cell(values(b, qid, "req_per_srv_cpu_s"), 1)
        sa, _ = cell(values(a, qid, "srv_pct"))
        sb, _ = cell(values(b, qid, "srv_pct"))
        other = [v for s in servers for v in values(s, qid, "other_pct") if v is not None]
        load = [v for s in servers for v in values(s, qid, "load1_before") if v is not None]
        st = lambda s: "/".join(sorted({rows.get(qid, {}).get("warmup_status", "?") for _, rows, _, _ in runs[s]}))
        out.append(f"| {qid} | {ma_} | {mb_} | {ca} | {cb} | {ratio(cma, cmb)} | {sa} | {sb} | "
                   f"{fmt(max(other) if other else None)} | {fmt(max(load) if load else None, 2)} | {st(a)} / {st(b)} |")
    if "ceiling" in servers or "cap" in servers:
        out.append("")
        out.extend(targets(a, ids, runs, values, ratio))
    out.append("")
    for s in servers:
        for name, _, first, last in runs[s]:
            out.append(f"- {name}: RSS at start {fmt(first, 1)} MiB, at end {fmt(last, 1)} MiB")
    print("\n".join(out))


def targets(a, ids, runs, values, ratio):
    """The issue's targets per query: ours vs the ceiling (req/s), ours vs CAP (per CPU-second)."""
    have = lambda s: s in runs
    med = lambda s, qid, col: cell(values(s, qid, col), 1) if have(s) else ("not run", None)
    out = [f"Targets ({a} = {'median' if len(runs[a]) != 2 else 'mean of the 2 runs (= median)'}): "
           f"fixed-cost queries ({', '.join(FIXED_COST)}) need {a} >= {CEILING_SHARE:.0%} of the ceiling "
           f"in req/s and >= {CAP_FIXED:g}x CAP in requests per server CPU-second; the others >= "
           f"{CAP_OTHER:g}x CAP per CPU-second. The ceiling (ceiling/README.md) serves only page100, "
           "key_eq, select3, status_and_tech and count_path, without authentication.", "",
           f"| id | class | {a} req/s | ceiling req/s | **{a} ÷ ceiling** req/s | target ≥ {CEILING_SHARE:.0%} "
           f"| {a} req/CPU-s | CAP req/CPU-s | ceiling req/CPU-s | **{a} ÷ CAP** req/CPU-s | target |",
           "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    met = missed = 0
    for qid in ids:
        fixed = qid in FIXED_COST
        ra, rma = med(a, qid, "rps")
        rc, rmc = med("ceiling", qid, "rps")
        ca, cma = med(a, qid, "req_per_srv_cpu_s")
        cp, cmp_ = med("cap", qid, "req_per_srv_cpu_s")
        cc, _ = med("ceiling", qid, "req_per_srv_cpu_s")
        share = rma / rmc if rma and rmc else None
        vs_cap = cma / cmp_ if cma and cmp_ else None
        share_txt = f"{share:.1%}" if share is not None else "n/a"
        v1 = verdict(share, CEILING_SHARE) if fixed else "–"
        v2 = verdict(vs_cap, CAP_FIXED if fixed else CAP_OTHER)
        for v in (v1, v2):
            met += v == "met"
            missed += v == "**MISSED**"
        need = f"≥ {CAP_FIXED:g}×" if fixed else f"≥ {CAP_OTHER:g}×"
        out.append(f"| {qid} | {'fixed-cost' if fixed else 'other'} | {ra} | {rc} | **{share_txt}** | {v1} "
                   f"| {ca} | {cp} | {cc} | **{ratio(cma, cmp_)}** | {need}: {v2} |")
    out.append("")
    out.append(f"Targets met: {met}, missed: {missed} (n/a: the server was not run or the ceiling "
               "does not serve the query).")
    return out


if __name__ == "__main__":
    main()
