#!/bin/sh
# bench/idoc/run.sh - generates the ORDERS05 IDoc-XML document with
# ../shared/bench/gen_idoc.py and runs the sap_idoc decode benchmark.
# Usage: bench/idoc/run.sh [BUILD_DIR] [IDOCS] [ROUNDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
idocs=${2:-2000}
reps=${3:-15}
gen=$top/../shared/bench/gen_idoc.py
if [ ! -f "$gen" ]; then
  echo "skipped: $gen not found" >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$gen" "$tmp/orders05.xml" "$idocs" --seed=1
"$build/bench/idoc/bench_idoc" "$tmp/orders05.xml" "$reps"
