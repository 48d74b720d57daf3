#!/usr/bin/env bash
# selftest.sh - proves that bench_count's checks can fail: two generators
# stamp the same partition keys and sequences into one counter, so each key
# sees every benchseq twice. The counter must report status=failed naming
# the broken order; a benchmark whose checks always pass would prove
# nothing.
#
#   bench/routing/selftest.sh [BUILD_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
dray=$build/core/dray
plugins=$build/bench/routing/plugins
count=2000

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dray-routing-selftest.XXXXXX")
dray_pid=
cleanup() {
  if [ -n "$dray_pid" ] && kill -0 "$dray_pid" 2>/dev/null; then
    kill -TERM "$dray_pid" 2>/dev/null || true
    wait "$dray_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/site.yaml" <<EOF
site: bench-selftest
data_dir: "$tmp/data"
plugin_path: "$plugins"
log_level: warn
instances:
  gen_a:
    plugin: bench_gen
    config: { count: $count, partitions: 4 }
  gen_b:
    plugin: bench_gen
    config: { count: $count, partitions: 4 }
  counter:
    plugin: bench_count
    config: { expected: $((2 * count)), result_file: "$tmp/counter.result" }
routes:
  - { from: [gen_a, gen_b], types: ["dray.bench.*"], to: [counter] }
EOF

"$dray" run -c "$tmp/site.yaml" 2>"$tmp/dray.log" &
dray_pid=$!
for _ in $(seq 1 200); do
  [ -f "$tmp/counter.result" ] && break
  kill -0 "$dray_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$dray_pid" 2>/dev/null || true
wait "$dray_pid" || true
dray_pid=

if [ ! -f "$tmp/counter.result" ]; then
  echo "selftest: the counter wrote no result; dray log:" >&2
  cat "$tmp/dray.log" >&2
  exit 1
fi
status=$(sed -n 's/^status=//p' "$tmp/counter.result")
error=$(sed -n 's/^error=//p' "$tmp/counter.result")
if [ "$status" != failed ] || ! grep -q 'order broken' <<<"$error"; then
  echo "selftest: duplicated sequences were not detected (status=$status, error=$error)" >&2
  exit 1
fi
if ! grep -q 'CHECK FAILED' "$tmp/dray.log"; then
  echo "selftest: the failed check was not logged" >&2
  exit 1
fi
echo "selftest: duplicated sequences detected: $error"
