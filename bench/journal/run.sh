#!/bin/sh
# Durable spool benchmark with its peers, measured in one run on the same disk:
#   raw group-commit append rate, dray's spool (durable: 1/4/16/64 appender threads; memory class),
#   and Debian's rsyslog with a disk-only, no-loss main queue (queue.syncqueuefiles="on",
#   queue.checkpointInterval="1") receiving the same 1 KiB messages over TCP on loopback.
# rsyslog runs as a separate instance: its own config, pid file and work directory in a temp dir,
# listening on a free 127.0.0.1 port, stopped by pid. The system rsyslog is never touched.
#
# Usage: bench/journal/run.sh [build dir] [seconds per spool case] [rsyslog message count]
#        (defaults: build 3 3000)
set -eu

BUILD=${1:-build}
SECS=${2:-3}
N=${3:-3000}
BIN="$BUILD/bench/journal/bench_journal"
if [ ! -x "$BIN" ]; then
  echo "run.sh: $BIN missing; build it first: ninja -C $BUILD bench/journal/bench_journal" >&2
  exit 1
fi
RSYSLOGD=/usr/sbin/rsyslogd
if [ ! -x "$RSYSLOGD" ]; then
  echo "run.sh: installing rsyslog (its service is not started by this script)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog >/dev/null
fi

# Same disk as the build tree (not tmpfs): that is what we compare.
WORK=$(mktemp -d "$(pwd)/.bench-journal.XXXXXX")
RS_PID=
cleanup() {
  if [ -n "$RS_PID" ] && kill -0 "$RS_PID" 2>/dev/null; then
    kill "$RS_PID" 2>/dev/null || true
    wait "$RS_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "== dray spool (bench_journal, $SECS s per case)"
"$BIN" "$WORK/spool" "$SECS" | tee "$WORK/bench.out"
RAW=$(sed -n 's/^raw=//p' "$WORK/bench.out")
SPOOL16=$(sed -n 's/^spool16=//p' "$WORK/bench.out")
SPOOL64=$(sed -n 's/^spool64=//p' "$WORK/bench.out")
MEM1=$(sed -n 's/^mem1=//p' "$WORK/bench.out")
BATCH1=$(sed -n 's/^batch1=//p' "$WORK/bench.out")

echo "== rsyslog $($RSYSLOGD -v | head -1 | awk '{print $2}') disk-only main queue, syncqueuefiles=on, checkpointInterval=1, $N messages"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/rs-work"
cat > "$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rs-work" maxMessageSize="8k")
module(load="imtcp")
template(name="raw" type="string" string="%msg%\n")
main_queue(queue.type="Disk" queue.filename="mainq" queue.syncqueuefiles="on"
           queue.checkpointInterval="1" queue.maxDiskSpace="4g" queue.maxFileSize="64m"
           queue.saveOnShutdown="on")
input(type="imtcp" port="$PORT" address="127.0.0.1")
action(type="omfile" file="$WORK/rs-out.log" template="raw")
CONF
"$RSYSLOGD" -N1 -f "$WORK/rsyslog.conf" >/dev/null 2>&1 || {
  echo "run.sh: rsyslog rejects the config:" >&2
  "$RSYSLOGD" -N1 -f "$WORK/rsyslog.conf" >&2
  exit 1
}
"$RSYSLOGD" -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog.pid" >"$WORK/rsyslog.stderr" 2>&1 &
RS_PID=$!

RS_RATE=$(python3 - "$PORT" "$N" "$WORK/rs-out.log" <<'PY'
import os, socket, sys, time
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("rsyslog did not listen")
        time.sleep(0.05)
head = "<14>Nov 22 10:00:00 benchhost dray: "
def line(i):
    body = "seq=%08d " % i
    return (head + body + "x" * (1024 - len(head) - len(body) - 1) + "\n").encode()
t0 = time.time()
for i in range(n):
    s.sendall(line(i))
def lines():
    try:
        with open(out, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0
got = 0
limit = time.time() + 600
while got < n and time.time() < limit:
    time.sleep(0.05)
    got = lines()
t1 = time.time()
s.close()
if got < n:
    sys.exit("rsyslog delivered only %d of %d" % (got, n))
print("%.1f" % (n / (t1 - t0)))
PY
)
kill "$RS_PID"
wait "$RS_PID" 2>/dev/null || true
RS_PID=
echo "rsyslog no-loss disk queue: $RS_RATE msgs/s"

echo "== ratios"
python3 - "$RAW" "$SPOOL16" "$SPOOL64" "$BATCH1" "$MEM1" "$RS_RATE" <<'PY'
import sys
raw, s16, s64, b1, mem1, rs = map(float, sys.argv[1:])
print("raw group commit             %10.0f msgs/s" % raw)
print("spool durable, 16 appenders  %10.0f msgs/s" % s16)
print("spool durable, 64 appenders  %10.0f msgs/s" % s64)
print("spool durable, append_many  %10.0f msgs/s  (1 thread, 256 records per call)" % b1)
print("spool memory class, 1 thread %10.0f msgs/s" % mem1)
print("rsyslog no-loss disk queue   %10.0f msgs/s" % rs)
print("spool16/raw     = %.2f   spool64/raw     = %.2f   batch/raw     = %.2f" % (s16 / raw, s64 / raw, b1 / raw))
print("spool16/rsyslog = %.0fx   spool64/rsyslog = %.0fx   batch/rsyslog = %.0fx" % (s16 / rs, s64 / rs, b1 / rs))
PY
