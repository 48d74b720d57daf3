#!/usr/bin/env bash
# run.sh - a backlog of COUNT durable messages held in the journal while the
# destination is down: the runtime's peak memory, against the issue's cap
# and against the size of the backlog on disk.
#
#   bench/backlog/run.sh [BUILD_DIR [COUNT [BODY_BYTES]]]
#
# Defaults: ../../build, 10,000,000 messages, 1024-byte bodies (about 14 GB
# of journal: check `df` first; COUNT=1000000 for a quick look).
#
# One `dray run` (the routing bench's plugins): bench_gen emits COUNT
# messages in emit_batch calls of 1,024 over 16 partition keys to
# bench_count, whose process() waits while a hold file exists (the
# destination is down). Every message is acknowledged durable; all but the
# lane's capacity wait in its backlog spool on disk. Once the generator is done the hold
# file is removed and the backlog drains; bench_count checks that every
# message arrives exactly once and in order per key (status=ok). The
# process's peak RSS (VmHWM) is read from /proc before the stop; dray is
# stopped by its pid.
# Prints: fill rate (acknowledged msgs/s while the destination is down),
# drain rate, peak RSS during the fill and overall, the data directory's size at
# its largest, and the ratio RSS / bytes on disk. Goal (issue 3): peak RSS
# <= 256 MB with a 10 million message backlog.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
count=${2:-10000000}
body_bytes=${3:-1024}
case $count in '' | *[!0-9]* | 0) echo "run.sh: COUNT must be a number >= 1" >&2; exit 2 ;; esac
build=$(cd "$build" && pwd)
dray=${DRAY_BIN:-$build/core/dray}
plugins=$build/bench/routing/plugins
for f in "$dray" "$plugins/bench_gen.so" "$plugins/bench_count.so"; do
  [ -e "$f" ] || { echo "run.sh: $f is missing: run ninja -C $build" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/dray-backlog-bench.XXXXXX")
dray_pid=
cleanup() {
  if [ -n "$dray_pid" ] && kill -0 "$dray_pid" 2>/dev/null; then
    kill -TERM "$dray_pid" 2>/dev/null || true
    wait "$dray_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=$((count * (body_bytes + 400) / 1024))
avail=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt $((need + 1048576)) ]; then
  echo "run.sh: the backlog needs about $((need / 1024)) MiB in $tmp, only $((avail / 1024)) MiB free" >&2
  exit 2
fi

cat >"$tmp/site.yaml" <<SITE
site: bench-backlog
data_dir: "$tmp/data"
plugin_path: "$plugins"
log_level: info
shutdown_timeout_ms: 10000
journal:
  max_disk_bytes: $(( (need + 1048576) * 1024 ))
  group_max_records: 1024
instances:
  gen:
    plugin: bench_gen
    config: { count: $count, body_bytes: $body_bytes, partitions: 16, batch: 1024,
              result_file: "$tmp/gen.result" }
  sink:
    plugin: bench_count
    config: { expected: $count, body_bytes: $body_bytes, result_file: "$tmp/sink.result",
              hold_file: "$tmp/hold" }
routes:
  - { from: gen, to: sink }
SITE

value() { sed -n "s/^$1=//p" "$2" | head -n 1; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$dray_pid/status"; }
now_ns() { date +%s%N; }

touch "$tmp/hold"
echo "backlog bench: $count messages of $body_bytes B held on disk, then drained; $(nproc) CPUs"
"$dray" run -c "$tmp/site.yaml" 2>"$tmp/dray.log" &
dray_pid=$!
t0=$(now_ns)
journal_max=0
wait_file() { # FILE WHAT: waits while dray lives; samples the journal size
  while [ ! -f "$1" ]; do
    if ! kill -0 "$dray_pid" 2>/dev/null; then
      echo "run.sh: dray exited while waiting for $2; its log:" >&2
      tail -n 30 "$tmp/dray.log" >&2
      dray_pid=
      exit 1
    fi
    local j
    j=$(du -sk "$tmp/data" 2>/dev/null | awk '{ print $1 }' || true)
    if [ -n "$j" ] && [ "$j" -gt "$journal_max" ]; then journal_max=$j; fi
    sleep 0.5
  done
}
wait_file "$tmp/gen.result" "the generator"
t_filled=$(now_ns)
[ "$(value status "$tmp/gen.result")" = ok ] || { echo "run.sh: generator: $(cat "$tmp/gen.result")" >&2; exit 1; }
sleep 1
j=$(du -sk "$tmp/data" | awk '{ print $1 }')
if [ "$j" -gt "$journal_max" ]; then journal_max=$j; fi
fill_hwm=$(hwm_kb)
rm -f "$tmp/hold"
wait_file "$tmp/sink.result" "the drain"
t_drained=$(now_ns)
hwm=$(hwm_kb)
kill -TERM "$dray_pid"
rc=0
wait "$dray_pid" || rc=$?
dray_pid=
status=$(value status "$tmp/sink.result")
if [ "$status" != ok ] || [ $rc -ne 0 ]; then
  echo "run.sh: sink status=$status $(value error "$tmp/sink.result"), dray exit $rc" >&2
  tail -n 30 "$tmp/dray.log" >&2
  exit 1
fi
awk -v n="$count" -v t0="$t0" -v tf="$t_filled" -v td="$t_drained" -v fh="$fill_hwm" \
    -v h="$hwm" -v j="$journal_max" 'BEGIN {
  printf "  fill (destination down): %.0f msgs/s acknowledged durable\n", n / ((tf - t0) / 1e9)
  printf "  drain (from the backlog): %.0f msgs/s\n", n / ((td - tf) / 1e9)
  printf "  journal and backlog on disk at their largest: %.0f MiB\n", j / 1024
  printf "  peak RSS: %.1f MiB while filling, %.1f MiB overall (goal <= 256 MB: %s)\n",
         fh / 1024, h / 1024, (h * 1024 <= 256e6 ? "met" : "NOT met")
  printf "  peak RSS / bytes on disk: %.4f\n", h / j
}'
echo "  order and count checked by bench_count: status=$status"
