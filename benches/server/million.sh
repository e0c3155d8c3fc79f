#!/usr/bin/env bash
# benches/server/million.sh: 1,000,000 users, ours only: import time and RSS, key_eq and page100 under wrk, server RSS peak, and the
# last page reached through nextLinks against the first.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")"); ROOT=$(readlink -f "$HERE/../..")
BIN=${BIN:-$ROOT/target/release/odata-users}; W=${WORK:-/tmp/million}; N=${N:-1000000}
mkdir -p $W; rm -f $W/db.sqlite*
[ -f $W/data-$N/peer.users-Users.csv ] || { t0=$(date +%s.%N); $BIN generate $N $W/data-$N --seed 42; echo "gen $(echo "$(date +%s.%N) - $t0" | bc) s"; }
export DATABASE_URL="sqlite://$W/db.sqlite?mode=rwc"
$BIN tenants create --tenant bench --org main >/dev/null
/usr/bin/time -f "import wall %e s, max RSS %M KB" $BIN import --tenant bench --org main $W/data-$N > $W/import.log 2>$W/import.time; cat $W/import.time | tail -1
$BIN clients create --tenant bench --org main --json > $W/client.json
ID=$(python3 -c "import json;print(json.load(open('$W/client.json'))['clientId'])")
SEC=$(python3 -c "import json;print(json.load(open('$W/client.json'))['clientSecret'])")
AUTH="Authorization: Basic $(printf '%s:%s' $ID $SEC | base64 -w0)"
APP_RATE_LIMIT_PER_MINUTE=0 APP_READS_PER_CLIENT=0 APP_READS_PER_TENANT=0 APP_READS_TENANT_SHARE=0 APP_READ_TIMEOUT_MS=0 $BIN serve --bind 127.0.0.1:18098 --no-demo > $W/out 2> $W/err & pid=$!
for _ in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:18098/health && break; sleep 0.2; done
peak=0; ( while kill -0 $pid 2>/dev/null; do r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); echo $r; sleep 0.25; done ) > $W/rss.txt & sampler=$!
root=http://127.0.0.1:18098/api/bench/main/odata
for q in "Users?\$filter=userKey%20eq%20'matthew.allen.500000'" "Users?\$top=100"; do
  curl -s -H "$AUTH" -o /dev/null -w "first answer %{http_code}\n" "$root/$q"
  wrk -t2 -c16 -d10s -H "$AUTH" "$root/$q" | awk -v q="$q" '/Requests\/sec/{print q"\t"$2" req/s"} /Latency/{print q"\tlatency avg "$2" max "$4}'
done
python3 - "$root/Users" "$AUTH" <<'PY'
import sys, time, urllib.request, json
url, auth = sys.argv[1], sys.argv[2].split(': ',1)[1]
times=[]; n=0; t_all=time.time()
while url:
    req=urllib.request.Request(url, headers={'Authorization': auth})
    t=time.time(); body=json.load(urllib.request.urlopen(req)); times.append(time.time()-t)
    n+=len(body['value']); url=body.get('@odata.nextLink')
print(f"nextLink walk: {len(times)} pages, {n} users, {time.time()-t_all:.1f} s; first page {times[0]*1000:.1f} ms, last page {times[-1]*1000:.1f} ms, median {sorted(times)[len(times)//2]*1000:.1f} ms, last/first {times[-1]/times[0]:.2f}, mean of last 10 / first 10 {sum(times[-10:])/sum(times[:10]):.2f}")
PY
kill $pid; wait $pid 2>/dev/null || true; kill $sampler 2>/dev/null || true
echo "server peak RSS $(sort -n $W/rss.txt | tail -1) KB"
du -m $W/db.sqlite | awk '{print "database "$1" MiB"}'
