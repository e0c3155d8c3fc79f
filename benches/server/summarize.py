#!/usr/bin/env python3
"""Comparison tables from the runs of run.sh.

    summarize.py RESULTS_DIR SERVER [SERVER ...]     e.g.  summarize.py results/x ours cap ours

Run k of server S is RESULTS_DIR/<k>-<S>.{tsv,log,rss} (bench_wrk.sh's TSV, its stderr with an
epoch timestamp per line, and VmRSS samples "epoch kB"). Servers measured more than once get the
mean of their runs, with each run's value in parentheses. The first server named is the one the
ratios are computed for ("ours"); the second is the reference ("cap").

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
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a", None
    mean = statistics.mean(vals)
    if len(vals) == 1:
        return fmt(mean, digits), mean
    return f"{fmt(mean, digits)} ({' / '.join(fmt(v, digits) for v in vals)})", mean


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    results, order = sys.argv[1], sys.argv[2:]
    servers = list(dict.fromkeys(order))
    runs = {s: [] for s in servers}
    for k, s in enumerate(order, 1):
        runs[s].append((f"{k}-{s}",) + read_run(results, f"{k}-{s}"))
    a, b = servers[0], servers[1] if len(servers) > 1 else servers[0]
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
    out.append(f"Runs in order: {', '.join(f'{k}-{s}' for k, s in enumerate(order, 1))}. "
               f"Several runs of one server: mean (each run). Ratios: {a} ÷ {b} for req/s and "
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
    out.append("")
    for s in servers:
        for name, _, first, last in runs[s]:
            out.append(f"- {name}: RSS at start {fmt(first, 1)} MiB, at end {fmt(last, 1)} MiB")
    print("\n".join(out))


if __name__ == "__main__":
    main()
