#!/usr/bin/env bash
# Durable routing, end to end, beside its limits measured in the same run:
#   dray: bench_gen -> journal (fdatasync before the source's emit_batch
#   returns) -> route -> bench_count, 1 KiB messages, batches of BATCH
#   (default 1024, with journal.group_max_records raised to match):
#   msgs/s and ack latency p50/p99; the same with `delivery: memory`;
#   the disk's raw group-commit append rate (256 x 1 KiB per fdatasync) and
#   a private rsyslog with its no-loss disk queue (bench/journal/run.sh).
#
#   bench/durable/run.sh [BUILD_DIR] [MESSAGES]     (defaults: build 500000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
count=${2:-500000}
num() { echo "$1" | tr -d ','; }

echo "== limits: raw group commit and rsyslog's no-loss queue (bench/journal/run.sh)"
journal=$("$top/bench/journal/run.sh" "$build" 2 2000 2>&1)
raw=$(echo "$journal" | sed -n 's/^raw=\([0-9]*\)$/\1/p')
rsyslog=$(echo "$journal" | sed -n 's/^rsyslog no-loss disk queue: \([0-9.]*\) msgs\/s$/\1/p')
echo "raw group commit: $raw msgs/s; rsyslog no-loss: $rsyslog msgs/s"

batch=${BATCH:-1024}
echo "== dray, durable (journal + fdatasync), 1 destination, batches of $batch"
d=$(DELIVERY=durable BATCH=$batch SITE_EXTRA="journal: { group_max_records: $batch }" \
    "$top/bench/routing/run.sh" "$build" "$count" 1 2>&1)
echo "$d" | grep -E "rep 1|checks"
durable=$(num "$(echo "$d" | sed -n 's/.*rep 1: dray 1 dest \([0-9,]*\) msgs\/s.*/\1/p')")
lat=$(echo "$d" | sed -n 's/.*ack latency.*: \(p50 .*\)$/\1/p')

echo "== dray, memory class, 1 destination"
m=$(DELIVERY=memory BATCH=$batch "$top/bench/routing/run.sh" "$build" "$count" 1 2>&1)
echo "$m" | grep -E "rep 1|checks"
memory=$(num "$(echo "$m" | sed -n 's/.*rep 1: dray 1 dest \([0-9,]*\) msgs\/s.*/\1/p')")

echo "== durable routing summary"
printf 'dray durable        %8s msgs/s  (emit_batch of %s: ack %s)\n' "$durable" "$batch" "$lat"
printf 'dray memory class   %8s msgs/s\n' "$memory"
printf 'raw group commit    %8s msgs/s\n' "$raw"
printf 'rsyslog no-loss     %8s msgs/s\n' "$rsyslog"
awk -v d="$durable" -v r="$raw" -v s="$rsyslog" 'BEGIN {
  printf "durable/raw = %.2f   durable/rsyslog = %.0fx\n", d / r, d / s }'
