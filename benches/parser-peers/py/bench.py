"""odata-query (Python) on the corpus written by `parser-peers dump`.

Usage: python bench.py corpus.jsonl
"""
import json
import sys
import time

from odata_query.grammar import ODataLexer, ODataParser

lexer, parser = ODataLexer(), ODataParser()


def parse(s):
    return parser.parse(lexer.tokenize(s))


def accepts(s):
    try:
        return parse(s) is not None
    except Exception:
        return False


def rate(items):
    for _ in range(20):
        for s in items:
            parse(s)
    n = nbytes = 0
    t0 = time.perf_counter()
    el = 0.0
    while el < 2.0:
        for s in items:
            parse(s)
            n += 1
            nbytes += len(s)
        el = time.perf_counter() - t0
    return n / el, nbytes / el


lines = [json.loads(x) for x in open(sys.argv[1], encoding="utf-8") if x.strip()]
filters = [l for l in lines if l["set"] == "filter"]
accepted = [l["text"] for l in filters if accepts(l["text"])]
common = [l["text"] for l in filters if l["common"]]
common_ok = [s for s in common if accepts(s)]
print(f"odata-query 0.10.0: accepts {len(accepted)} of {len(filters)} $filter corpus entries; "
      f"{len(common_ok)} of the {len(common)} common ones")
if len(common_ok) == len(common):
    print(f"  common set: {rate(common)[0]:.0f} expressions/s")
else:
    print(f"  common set minus its rejections ({len(common_ok)}): {rate(common_ok)[0]:.0f} expressions/s")
print(f"  own accepted set: {rate(accepted)[0]:.0f} expressions/s")
for l in lines:
    if l["set"] == "filter":
        continue
    if not accepts(l["text"]):
        print(f"  {l['set']}: rejected")
        continue
    per_sec, bps = rate([l["text"]])
    print(f"  {l['set']} ({len(l['text'])} B): {bps / 1e6:.2f} MB/s, {1e9 / per_sec:.0f} ns/input")
