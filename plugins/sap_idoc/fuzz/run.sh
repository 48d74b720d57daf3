#!/bin/sh
# plugins/sap_idoc/fuzz/run.sh - runs the sap_idoc libFuzzer targets.
# Usage: run.sh BUILD_DIR [SECONDS_PER_TARGET]
# BUILD_DIR was configured with: CC=clang meson setup BUILD -Dfuzz=true -Dtests=false
# The corpus starts from seeds/ plus the shared DELVRY03 fixture (copied at
# run time, never committed); crashes land in BUILD_DIR/sap_idoc-fuzz/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1
secs=${2:-300}
out=$build/sap_idoc-fuzz
mkdir -p "$out/corpus-flat" "$out/corpus-xml" "$out/crashes"
cp "$here"/seeds/flat/* "$out/corpus-flat/"
cp "$here"/seeds/xml/* "$out/corpus-xml/"
fixture=$here/../../../../shared/fixtures/idoc/ballerina_DELVRY03_DESADV_boatyard.xml
[ -f "$fixture" ] && cp "$fixture" "$out/corpus-xml/"
for t in flat xml; do
  bin=$(find "$build" -name "fuzz_sap_idoc_$t" -type f | head -1)
  nice "$bin" -max_total_time="$secs" -max_len=16384 -timeout=10 \
    -artifact_prefix="$out/crashes/$t-" -print_final_stats=1 \
    "$out/corpus-$t" 2>&1 | tail -12
done
