#!/usr/bin/env bash
# Restart-to-ready with a large journal: fills DATA_DIR/journal with about
# SIZE_MB of unreleased 1 KiB records (default 1024 MiB), then times
# `dray run` from exec to its "site ... running" log line, beside the time
# to read the same bytes from disk (cat > /dev/null, after dropping the
# page cache where allowed) measured in the same run. WHERE=backlog fills
# the destination's backlog spool instead (DATA_DIR/backlog/sink: what a
# destination that was down leaves), which is recovered in the background
# after the start; the time until its first message is delivered is
# printed too.
#   bench/restart/run.sh [BUILD_DIR] [SIZE_MB]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
size_mb=${2:-1024}
tmp=$(mktemp -d)
trap 'kill -TERM ${pid:-0} 2>/dev/null || true; rm -rf "$tmp"' EXIT
records=$(( size_mb * 1024 * 1024 / 1150 ))
cat > "$tmp/site.yaml" <<YAML
site: restart
data_dir: data
journal: { segment_bytes: 64M }
instances:
  gen: { plugin: testkit }
  sink: { plugin: testkit, queue_capacity: 4096, config: { log_file: sink.log } }
routes:
  - { from: gen, to: sink }
YAML
echo "filling the journal with $records records..."
where=${WHERE:-journal}
if [ "$where" = backlog ]; then
  "$build/bench/restart/fill_journal" "$tmp/data" gen "$records" sink
  files="$tmp/data/backlog/sink"
else
  "$build/bench/restart/fill_journal" "$tmp/data" gen "$records"
  files="$tmp/data/journal"
fi
du -sh "$files"
sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not allowed here)"
t0=$(date +%s.%N)
cat "$files"/*.seg > /dev/null
t1=$(date +%s.%N)
read_s=$(echo "$t1 - $t0" | bc -l)
[ "${WARM:-0}" = 1 ] || echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
export DRAY_PLUGIN_PATH="$build/tests/plugins" DRAY_NO_BUILD_PLUGINS=1
t0=$(date +%s.%N)
(cd "$tmp" && exec "$build/core/dray" run -c "$tmp/site.yaml" > "$tmp/dray.log" 2>&1) &
pid=$!
until grep -q "running" "$tmp/dray.log"; do sleep 0.005; done
t1=$(date +%s.%N)
ready_s=$(echo "$t1 - $t0" | bc -l)
until [ -s "$tmp/sink.log" ]; do sleep 0.005; done
t2=$(date +%s.%N)
first_s=$(echo "$t2 - $t0" | bc -l)
kill -TERM $pid; wait $pid || true
printf "%s %s MiB: restart-to-ready %.3f s; first delivery %.3f s; reading the same files %.3f s (ratio ready/read %.2f)\n" \
  "$where" "$size_mb" "$ready_s" "$first_s" "$read_s" "$(echo "$ready_s / $read_s" | bc -l)"
