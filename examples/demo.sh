#!/usr/bin/env bash
# The demo: runs the embedded default site (examples/demo-site.yaml) for
# real: order files dropped into an inbox become canonical CloudEvents,
# are routed by type to two destinations (fan-out), and are written as
# files; a malformed file is refused with a reason. Then it stops dray
# with SIGTERM (a clean drain) and says what happened.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
site="$top/examples/demo-site.yaml"
var="$top/var/demo"
dray="$build/core/dray"
export DRAY_PLUGIN_PATH="$build/plugins/file:$build/plugins/edi_x12"

rm -rf "$var"
mkdir -p "$var"
echo "== dray check: the site file"
"$dray" check -c "$site"

echo "== dray run: starting site 'demo' (log: var/demo/dray.log)"
"$dray" run -c "$site" > "$var/dray.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "running" "$var/dray.log" 2>/dev/null && break
  sleep 0.05
done

echo "== dropping 3 orders and 1 malformed file into var/demo/inbox"
for f in "$top"/examples/orders/*.json; do
  cp "$f" "$var/inbox/.$(basename "$f").part"
  mv "$var/inbox/.$(basename "$f").part" "$var/inbox/$(basename "$f")"
done
printf '{"order_no": "PO-BAD",\n "lines": [1, 2,,]}\n' > "$var/inbox/.bad.part"
mv "$var/inbox/.bad.part" "$var/inbox/PO-BAD.json"
echo "== the trading partner ACMERETAIL sends an X12 850 into var/demo/edi/in"
mkdir -p "$var/edi/in"
cp "$top/examples/edi/PO-7001.x12" "$var/edi/in/.PO-7001.part"
mv "$var/edi/in/.PO-7001.part" "$var/edi/in/PO-7001.x12"

for _ in $(seq 200); do
  n=$(find "$var/out/audit" -name '*.json' 2>/dev/null | wc -l)
  [ "$n" -ge 5 ] && [ -f "$var/inbox/failed/PO-BAD.json.error" ] && break
  sleep 0.05
done

echo "== stopping dray (SIGTERM, pid $pid)"
kill -TERM "$pid"
trap - EXIT
set +e
wait "$pid"
code=$?
set -e

orders=$(find "$var/out/orders" -name '*.json' | wc -l)
audit=$(find "$var/out/audit" -name '*.json' | wc -l)
done_n=$(find "$var/inbox/done" -type f | wc -l)
echo
echo "What happened:"
echo "  picked up ${done_n} order files from var/demo/inbox (moved to inbox/done/)"
echo "  routed every order (3 from JSON files, 1 from X12) as dray.order.created.v1 to 2 destinations:"
echo "    ${orders} CloudEvent files in var/demo/out/orders/"
echo "    ${audit} CloudEvent files in var/demo/out/audit/ (the orders, and the canonical ack of the 997 sent)"
edi_orders=$(grep -l '"order_no":"PO-7001"' "$var/out/orders"/*.json 2>/dev/null | wc -l)
acks=$(find "$var/edi/out" -type f 2>/dev/null | wc -l)
echo "  decoded the partner's X12 850 (PO-7001) into ${edi_orders} canonical order, routed the same way,"
echo "  and wrote ${acks} functional acknowledgment file(s) (997) back to var/demo/edi/out:"
find "$var/edi/out" -type f -exec sed 's/^/    /' {} \; 2>/dev/null | head -n 8
echo "  refused PO-BAD.json (moved to inbox/failed/), reason:"
sed 's/^/    /' "$var/inbox/failed/PO-BAD.json.error"
echo "  dray exited with status ${code} after draining"
echo
echo "One of the routed messages (var/demo/out/orders):"
first=$(ls "$var/out/orders"/*.json | head -n 1)
python3 -m json.tool "$first" | sed -n '1,20p'
echo "  ..."
[ "$code" -eq 0 ] && [ "$orders" -eq 4 ] && [ "$edi_orders" -eq 1 ] && [ "$acks" -ge 1 ]
