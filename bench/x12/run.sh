#!/bin/sh
# run.sh - the edi_x12 benchmark: generates the 26.8 MB interchange of
# 10,000 856 ship notices with ../shared/bench/gen_x12.py, builds
# x12_bench.c against the codec, installs node-x12 and x12-parser with npm
# into a temporary folder, runs all of them on the same file and prints
# our figures beside theirs as ratios.
#   bench/x12/run.sh [WORKDIR]      (default /tmp/edi_x12_bench)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src="$top/plugins/edi_x12"
work=${1:-/tmp/edi_x12_bench}
gen="$top/../shared/bench/gen_x12.py"
mkdir -p "$work"
file="$work/asn856.edi"
if [ ! -f "$file" ]; then
  [ -f "$gen" ] || { echo "run.sh: $gen not found" >&2; exit 1; }
  python3 "$gen" "$file" 10000
fi
cc -O2 -g -std=c11 -D_GNU_SOURCE -I"$src" "$here/x12_bench.c" \
  "$src"/x12_tokenizer.c "$src"/x12_sets.c "$src"/x12_validate.c \
  "$src"/x12_writer.c "$src"/x12_ack.c "$src"/x12_codes.c "$src"/x12_map.c \
  "$src"/x12_encode.c "$src"/x12_decode.c "$src"/x12_json.c \
  $(pkg-config --cflags --libs json-c) -lpthread -o "$work/x12_bench"
if [ ! -d "$work/node_modules/node-x12" ] || [ ! -d "$work/node_modules/x12-parser" ]; then
  (cd "$work" && [ -f package.json ] || npm init -y >/dev/null 2>&1
   cd "$work" && npm install --no-audit --no-fund node-x12 x12-parser >/dev/null 2>&1)
fi
cp "$here/node_x12.js" "$here/x12_parser.js" "$work/"
tok=$("$work/x12_bench" tokenize "$file" 5)
dec=$("$work/x12_bench" decode "$file" 3)
nx=$(cd "$work" && node --max-old-space-size=8192 node_x12.js "$file")
xp=$(cd "$work" && node x12_parser.js "$file")
echo "file: $file ($(wc -c < "$file") bytes)"
echo "dray  $tok"
echo "dray  $dec"
echo "peer  $nx"
echo "peer  $xp"
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# Ratios use CPU time (user+sys) of each process: the machine is shared, so
# wall-clock figures swing with other jobs; both are printed above.
awk -v t="$(val "$tok" cpu_mb_s)" -v d="$(val "$dec" cpu_mb_s)" \
    -v n="$(val "$nx" cpu_mb_s)" -v x="$(val "$xp" cpu_mb_s)" \
    -v tr="$(val "$tok" peak_rss_kb)" -v dr="$(val "$dec" peak_rss_kb)" \
    -v nr="$(val "$nx" peak_rss_kb)" -v xr="$(val "$xp" peak_rss_kb)" 'BEGIN {
  printf "CPU-time MB/s: tokenize+validate %.0f (goal >= 500), decode %.0f (goal >= 50), node-x12 %.1f, x12-parser %.1f\n", t, d, n, x
  printf "ratio tokenize+validate / node-x12   = %.0fx  (goal >= 150x)\n", t / n
  printf "ratio tokenize+validate / x12-parser = %.0fx\n", t / x
  printf "ratio decode-to-canonical / node-x12 = %.0fx\n", d / n
  printf "ratio decode-to-canonical / x12-parser = %.0fx\n", d / x
  printf "peak RSS MB: tokenize %.1f (goal <= 32), decode %.1f, node-x12 %.1f, x12-parser %.1f\n",
         tr / 1024, dr / 1024, nr / 1024, xr / 1024
}'
