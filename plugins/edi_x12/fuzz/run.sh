#!/bin/sh
# run.sh - builds the X12 libFuzzer target with clang (outside meson, so it
# does not need the top-level fuzz/ folder) and runs it.
#   plugins/edi_x12/fuzz/run.sh [SECONDS] [WORKDIR]
# The corpus lives in WORKDIR (default /tmp/edi_x12_fuzz), outside the repo:
# the committed seeds plus the ../shared X12 fixtures copied at run time.
# Crashes land in WORKDIR/crashes/; turn each into a regression test.
set -eu
secs=${1:-600}
work=${2:-/tmp/edi_x12_fuzz}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
top=$(cd "$src/../.." && pwd)
mkdir -p "$work/corpus" "$work/crashes"
cp "$here"/seeds/* "$work/corpus/"
if [ -d "$top/../shared/fixtures/x12" ]; then
  cp "$top"/../shared/fixtures/x12/*.edi "$work/corpus/"
fi
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -D_GNU_SOURCE -std=c11"
clang $flags -I"$src" "$here/fuzz_x12.c" \
  "$src"/x12_tokenizer.c "$src"/x12_sets.c "$src"/x12_validate.c \
  "$src"/x12_writer.c "$src"/x12_ack.c "$src"/x12_codes.c "$src"/x12_map.c \
  "$src"/x12_encode.c "$src"/x12_decode.c "$src"/x12_json.c \
  $(pkg-config --cflags --libs json-c) -lpthread -o "$work/fuzz_x12"
cd "$work"
exec nice ./fuzz_x12 -max_total_time="$secs" -max_len=8192 -timeout=10 \
  -artifact_prefix="$work/crashes/" -print_final_stats=1 corpus
