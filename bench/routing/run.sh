#!/usr/bin/env bash
# run.sh - routing throughput of the core runtime against bare ZeroMQ.
#
#   bench/routing/run.sh [BUILD_DIR [COUNT [REPETITIONS]]]
#
# BUILD_DIR defaults to ../../build relative to this script, COUNT to
# 1000000 messages of 1 KiB, REPETITIONS to 3. An existing build dir is
# used as it is (build it first: ninja -C BUILD_DIR); a missing one is
# set up and built.
#
# Each repetition runs, one after the other:
#   - bare ZeroMQ inproc PUSH/PULL of COUNT 1 KiB messages (bare_zmq);
#   - `dray run` of a site gen -> count: bench_gen emits COUNT messages over
#     16 partition keys, bench_count checks count and per-key order and
#     writes the rate from the first emit to the last delivery;
#   - the same with fan-out, gen -> [count_a, count_b]: the rate is source
#     messages per second until the slower counter is done (each message is
#     delivered twice).
# Once at the end, msg_path (the message model without the router: build
# cost, and pointer handoff between two threads) for the middle rung.
# dray is stopped with SIGTERM (by pid) once the result files appear, or
# after a bounded wait. Prints each repetition, the medians and the ratios
# dray/bare, for the rate and for the CPU time spent per message (all
# threads of the process, read from /proc before the stop; on a loaded
# machine it varies less than the rate). Exits non-zero if any run failed,
# timed out or a counter's checks failed.
#
# DRAY_BIN=/path/to/dray runs another build of the runtime with this
# build's plugins: to compare a core change against the current one.
# SITE_EXTRA='dedupe_window_ms: 0' adds top-level lines to the generated
# sites: to measure what one site setting costs.
# DELIVERY=durable (default: journaled, fdatasync'ed before the source's
# emit returns) or DELIVERY=memory (the memory delivery class);
# BATCH=256 (default) messages per emit_batch, BATCH=1 emits one by one;
# THREADS=1 (default) emitting threads in bench_gen, each with its own keys;
# QUEUE_CAPACITY=N sets the destinations' lane capacity (default 1024).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
count=${2:-1000000}
reps=${3:-3}
body_bytes=1024
partitions=16

case $count in '' | *[!0-9]* | 0) echo "run.sh: COUNT must be a number >= 1, got '$count'" >&2; exit 2 ;; esac
case $reps in '' | *[!0-9]* | 0) echo "run.sh: REPETITIONS must be a number >= 1, got '$reps'" >&2; exit 2 ;; esac

if [ ! -f "$build/build.ninja" ]; then
  echo "run.sh: no build in $build: setting one up" >&2
  meson setup "$build" "$here/../.." >&2
  nice ninja -C "$build" >&2
fi
build=$(cd "$build" && pwd)
dray=${DRAY_BIN:-$build/core/dray}
bare=$build/bench/routing/bare_zmq
msg_path=$build/bench/routing/msg_path
plugins=$build/bench/routing/plugins
for f in "$dray" "$bare" "$msg_path" "$plugins/bench_gen.so" "$plugins/bench_count.so"; do
  if [ ! -e "$f" ]; then
    echo "run.sh: $f is missing: run ninja -C $build" >&2
    exit 2
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dray-routing-bench.XXXXXX")
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

# Bounded wait for one run: generous for a slow (sanitizer) build, short
# enough that a stuck run fails within minutes.
timeout_s=$((20 + count / 10000))

# value KEY FILE: the value of KEY=... in a result file.
value() { sed -n "s/^$1=//p" "$2" | head -n 1; }

# write_site NAME DESTS...: a site where gen feeds each destination.
write_site() {
  local name=$1
  shift
  local dir=$tmp/$name
  mkdir -p "$dir"
  {
    echo "site: bench-$name"
    echo "data_dir: \"$dir/data\""
    echo "plugin_path: \"$plugins\""
    echo "log_level: info"
    echo "shutdown_timeout_ms: 10000"
    if [ -n "${SITE_EXTRA:-}" ]; then printf '%s\n' "$SITE_EXTRA"; fi
    echo "instances:"
    echo "  gen:"
    echo "    plugin: bench_gen"
    echo "    config:"
    echo "      count: $count"
    echo "      body_bytes: $body_bytes"
    echo "      partitions: $partitions"
    echo "      type: dray.bench.event.v1"
    echo "      result_file: \"$dir/gen.result\""
    echo "      batch: ${BATCH:-256}"
    echo "      threads: ${THREADS:-1}"
    for d in "$@"; do
      echo "  $d:"
      echo "    plugin: bench_count"
      if [ -n "${QUEUE_CAPACITY:-}" ]; then echo "    queue_capacity: $QUEUE_CAPACITY"; fi
      echo "    config:"
      echo "      expected: $count"
      echo "      body_bytes: $body_bytes"
      echo "      result_file: \"$dir/$d.result\""
    done
    echo "routes:"
    echo "  - from: gen"
    echo "    types: [\"dray.bench.*\"]"
    echo "    to: [$(IFS=,; echo "$*" | sed 's/,/, /g')]"
    echo "    delivery: ${DELIVERY:-durable}"
  } >"$dir/site.yaml"
}

# run_site NAME DESTS...: runs dray on the site; sets rate (source messages
# per second until the last destination was done), cpu (CPU ns of the
# process per source message) and retries (the generator's backpressure
# retries), or returns 1. Runs in this shell, so
# the EXIT trap knows dray's pid.
run_site() {
  local name=$1
  shift
  local dir=$tmp/$name
  rm -f "$dir"/*.result
  rm -rf "$dir/data"
  "$dray" run -c "$dir/site.yaml" 2>"$dir/dray.log" &
  dray_pid=$!
  local waited=0 missing
  while :; do
    missing=0
    for d in "$@"; do [ -f "$dir/$d.result" ] || missing=1; done
    [ $missing -eq 0 ] && break
    if ! kill -0 "$dray_pid" 2>/dev/null; then
      echo "run.sh: dray ($name) exited before the results were written; its log:" >&2
      tail -n 30 "$dir/dray.log" >&2
      dray_pid=
      return 1
    fi
    if [ $waited -ge $((timeout_s * 10)) ]; then
      echo "run.sh: dray ($name) did not finish $count messages within ${timeout_s}s" >&2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local ticks
  ticks=$(awk '{ print $14 + $15 }' "/proc/$dray_pid/stat")
  kill -TERM "$dray_pid"
  local rc=0
  wait "$dray_pid" || rc=$?
  dray_pid=
  # The counters rewrite their file at shutdown if anything arrived late.
  local worst=0 d status
  for d in "$@"; do
    status=$(value status "$dir/$d.result" 2>/dev/null || true)
    if [ "$status" != ok ]; then
      echo "run.sh: $name/$d: status=${status:-none} $(value error "$dir/$d.result" 2>/dev/null || true)" >&2
      tail -n 30 "$dir/dray.log" >&2
      return 1
    fi
    local e
    e=$(value elapsed_ns "$dir/$d.result")
    if [ "$e" -gt "$worst" ]; then worst=$e; fi
  done
  if [ $rc -ne 0 ]; then
    echo "run.sh: dray ($name) exited with status $rc; its log:" >&2
    tail -n 30 "$dir/dray.log" >&2
    return 1
  fi
  rate=$(awk -v n="$count" -v ns="$worst" 'BEGIN { printf "%.0f", n * 1e9 / ns }')
  retries=$(value backpressure_retries "$dir/gen.result")
  ack_p50=$(value ack_p50_ns "$dir/gen.result")
  ack_p99=$(value ack_p99_ns "$dir/gen.result")
  cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$count" 'BEGIN { printf "%.0f", t / hz * 1e9 / n }')
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

write_site single count_a
write_site fanout count_a count_b

echo "routing bench: $count messages of $body_bytes B, $partitions partition keys, $reps repetition(s), $(nproc) CPUs"
echo "  dray: $dray"
single=() fanout=() barez=() single_cpu=() fanout_cpu=() bare_cpu=()
for rep in $(seq 1 "$reps"); do
  out=$("$bare" "$count" "$body_bytes") || { echo "run.sh: bare_zmq failed: $out" >&2; exit 1; }
  b=$(echo "$out" | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p')
  bc=$(echo "$out" | sed -n 's/.*cpu_ns_per_msg=\([0-9]*\).*/\1/p')
  run_site single count_a || exit 1
  s=$rate s_bp=$retries sc=$cpu
  echo "  rep $rep: ack latency of an emit_batch of ${BATCH:-256} (${DELIVERY:-durable}): p50 $(awk -v n="$ack_p50" 'BEGIN { printf "%.2f", n / 1e6 }') ms, p99 $(awk -v n="$ack_p99" 'BEGIN { printf "%.2f", n / 1e6 }') ms"
  run_site fanout count_a count_b || exit 1
  f=$rate f_bp=$retries fc=$cpu
  barez+=("$b") single+=("$s") fanout+=("$f")
  bare_cpu+=("$bc") single_cpu+=("$sc") fanout_cpu+=("$fc")
  printf '  rep %d: dray 1 dest %s msgs/s (%s ns CPU/msg, %s backpressure retries) | dray fan-out 2 %s msgs/s (%s ns CPU/msg, %s retries) | bare zmq %s msgs/s (%s ns CPU/msg)\n' \
    "$rep" "$(group "$s")" "$sc" "$s_bp" "$(group "$f")" "$fc" "$f_bp" "$(group "$b")" "$bc"
done
ms=$(median "${single[@]}")
mf=$(median "${fanout[@]}")
mb=$(median "${barez[@]}")
echo "median of $reps:"
msc=$(median "${single_cpu[@]}")
mfc=$(median "${fanout_cpu[@]}")
mbc=$(median "${bare_cpu[@]}")
echo "  dray, 1 destination:      $(group "$ms") msgs/s, $msc ns CPU/msg"
echo "  dray, fan-out to 2:       $(group "$mf") msgs/s ($(group $((mf * 2))) deliveries/s), $mfc ns CPU/msg"
echo "  bare zmq inproc, 1 KiB:   $(group "$mb") msgs/s, $mbc ns CPU/msg"
echo "  rate ratio dray(1 dest)/bare:  $(ratio "$ms" "$mb")"
echo "  rate ratio dray(fan-out)/bare: $(ratio "$mf" "$mb")"
echo "  CPU/msg ratio dray(1 dest)/bare:  $(ratio "$msc" "$mbc")"
echo "  CPU/msg ratio dray(fan-out)/bare: $(ratio "$mfc" "$mbc")"
out=$("$msg_path" "$count" "$body_bytes") || { echo "run.sh: msg_path failed: $out" >&2; exit 1; }
mp_build=$(echo "$out" | sed -n 's/.*mode=build.*cpu_ns_per_msg=\([0-9]*\).*/\1/p')
mp_hand=$(echo "$out" | sed -n 's/.*mode=handoff.*msgs_per_s=\([0-9]*\).*cpu_ns_per_msg=\([0-9]*\).*/\1 \2/p')
echo "message model without the router (msg_path, one run):"
echo "  build only:                $mp_build ns CPU/msg"
echo "  handoff between threads:   $(group "${mp_hand% *}") msgs/s, ${mp_hand#* } ns CPU/msg (CPU vs bare: $(ratio "${mp_hand#* }" "$mbc"))"
echo "checks: every counter received exactly $count messages, per-key order kept (status=ok)"
