"""Write one seed file per conformance input, prefixed with each selector byte."""
import json, os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
n = 0
for f in ("odata-abnf-cases.json", "odata-aggregation-cases.json"):
    for case in json.load(open(os.path.join(src, f), encoding="utf-8")):
        text = case["input"]
        value = text.split("=", 1)[1] if text.startswith("$") and "=" in text else text
        for sel, body in ((0, text), (1, value), (2, value), (3, value), (4, value), (5, value), (6, text), (7, value)):
            with open(os.path.join(out, f"seed-{n}"), "wb") as fh:
                fh.write(bytes([48 + sel]) + body.encode("utf-8"))
            n += 1
print(n, "seeds")
