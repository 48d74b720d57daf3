#!/usr/bin/env bash
# abi_check.sh ANCHOR_SO BASELINE_DIR HEADER [--update]
#
# Compares the ABI of the anchor library (every public type of
# sdk/include/dray/) with the committed baseline of the version the header
# declares:
#  - a baseline for this exact version exists: the ABI must be identical;
#  - none exists (the version was bumped): the newest baseline of the same
#    major must be compatible (additions only) and the new baseline must
#    be committed (run with --update, or `ninja -C build abi-baseline`).
set -euo pipefail
anchor=$1 dir=$2 header=$3 mode=${4:-check}
major=$(sed -n 's/^#define DRAY_ABI_MAJOR \([0-9]*\).*/\1/p' "$header")
minor=$(sed -n 's/^#define DRAY_ABI_MINOR \([0-9]*\).*/\1/p' "$header")
want="$dir/dray-abi-$major.$minor.xml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --no-corpus-path: the baseline must not depend on where the tree is.
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --out-file "$tmp/current.xml" "$anchor"
if [ "$mode" = "--update" ]; then
  mkdir -p "$dir"
  cp "$tmp/current.xml" "$want"
  echo "wrote $want"
  exit 0
fi
if [ -f "$want" ]; then
  if abidiff "$want" "$tmp/current.xml" > "$tmp/report"; then
    echo "ABI $major.$minor matches its baseline $want"
    exit 0
  fi
  cat "$tmp/report"
  echo "FAIL: the public ABI changed but DRAY_ABI_MINOR/MAJOR ($major.$minor) did not." >&2
  echo "Bump DRAY_ABI_MINOR for additions at the end of a struct (or MAJOR for anything else)," >&2
  echo "then record the new baseline: ninja -C build abi-baseline" >&2
  exit 1
fi
prev=$(ls "$dir"/dray-abi-"$major".*.xml 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$prev" ]; then
  echo "FAIL: no ABI baseline for major $major in $dir; record one: ninja -C build abi-baseline" >&2
  exit 1
fi
set +e
abidiff "$prev" "$tmp/current.xml" > "$tmp/report"
rc=$?
set -e
cat "$tmp/report"
if [ $((rc & 8)) -ne 0 ]; then
  echo "FAIL: ABI $major.$minor is incompatible with $prev (only additions at the end are allowed in a minor version)" >&2
  exit 1
fi
echo "FAIL: ABI $major.$minor is compatible with $prev but its baseline is not committed: ninja -C build abi-baseline" >&2
exit 1
