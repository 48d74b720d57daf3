#!/bin/sh
# run_cms_zlib.sh - builds the CMS CompressedData libFuzzer target with clang
# (outside meson, like run.sh) and runs it.
#   plugins/edi_x12/fuzz/run_cms_zlib.sh [SECONDS] [WORKDIR]
# The corpus lives in WORKDIR (default /tmp/edi_x12_cms_zlib_fuzz), seeded
# from fuzz/seeds_cms_zlib/. Crashes land in WORKDIR/crashes/; turn each
# into a regression test in tests/test_as2_zip.c.
set -eu
secs=${1:-600}
work=${2:-/tmp/edi_x12_cms_zlib_fuzz}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
mkdir -p "$work/corpus" "$work/crashes"
cp "$here"/seeds_cms_zlib/* "$work/corpus/"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -std=c11"
clang $flags -I"$src" "$here/fuzz_as2_cms_zlib.c" "$src/as2_cms_zlib.c" -lz \
  -o "$work/fuzz_as2_cms_zlib"
cd "$work"
exec nice ./fuzz_as2_cms_zlib -max_total_time="$secs" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix="$work/crashes/" -print_final_stats=1 corpus
