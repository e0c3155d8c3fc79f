// @odata/parser on the corpus written by `parser-peers dump` (JSON lines on stdin's file).
// Usage: node bench.js corpus.jsonl
const fs = require('fs');
const { defaultParser } = require('@odata/parser');

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const accepts = (s) => {
  try {
    const t = defaultParser.filter(s);
    return !!t && t.next === s.length;
  } catch (e) {
    return false;
  }
};
function rate(items) {
  // Expressions (and bytes) per second, single-threaded, about 2 s of work.
  for (let i = 0; i < 200; i++) items.forEach((s) => defaultParser.filter(s));
  let n = 0, bytes = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  while (el < 2e9) {
    for (const s of items) { defaultParser.filter(s); n++; bytes += s.length; }
    el = Number(process.hrtime.bigint() - t0);
  }
  return { perSec: n / (el / 1e9), bytesPerSec: bytes / (el / 1e9) };
}
const filters = lines.filter((l) => l.set === 'filter');
const accepted = filters.filter((l) => accepts(l.text));
const common = filters.filter((l) => l.common);
const commonOk = common.filter((l) => accepts(l.text));
console.log(`@odata/parser 0.2.14: accepts ${accepted.length} of ${filters.length} $filter corpus entries; ${commonOk.length} of the ${common.length} common ones`);
if (commonOk.length === common.length) {
  console.log(`  common set: ${rate(common.map((l) => l.text)).perSec.toFixed(0)} expressions/s`);
} else {
  const rej = common.filter((l) => !accepts(l.text)).map((l) => l.text);
  console.log(`  rejects from the common set: ${JSON.stringify(rej)}`);
  console.log(`  common set minus its rejections (${commonOk.length}): ${rate(commonOk.map((l) => l.text)).perSec.toFixed(0)} expressions/s`);
}
console.log(`  own accepted set: ${rate(accepted.map((l) => l.text)).perSec.toFixed(0)} expressions/s`);
for (const l of lines.filter((l) => l.set !== 'filter')) {
  if (!accepts(l.text)) { console.log(`  ${l.set}: rejected`); continue; }
  const r = rate([l.text]);
  console.log(`  ${l.set} (${l.text.length} B): ${(r.bytesPerSec / 1e6).toFixed(2)} MB/s, ${(1e9 / r.perSec).toFixed(0)} ns/input`);
}
