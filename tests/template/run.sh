#!/usr/bin/env bash
# run.sh SOURCE_ROOT BUILD_ROOT MESON B_SANITIZE
#
# What a third party does with a Dray release, end to end:
#   1. install the SDK and dray (here: `meson install --destdir` of this
#      build into a temporary stage, relocated so pkg-config points there);
#   2. copy plugin-template/ out of the tree and build it with nothing but
#      PKG_CONFIG_PATH pointing at the staged dray-sdk.pc;
#   3. run its unit tests (cmocka + the SDK's mock host);
#   4. install it into the SDK's plugin directory, describe and check it;
#   5. run the installed dray with a site routing file -> stamp -> file and
#      check that the stamp is in the CloudEvent written out, then stop dray
#      with SIGTERM and expect exit status 0.
set -euo pipefail

src=$1
build=$2
meson=$3
sanitize=${4:-none}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dray-template-test.XXXXXX")
dray_pid=
cleanup() {
  if [[ -n $dray_pid ]] && kill -0 "$dray_pid" 2>/dev/null; then
    kill -KILL "$dray_pid" 2>/dev/null || true
    wait "$dray_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- 1. stage-install this build -------------------------------------------
stage=$tmp/stage
# Without --no-rebuild: `meson test` builds only what tests depend on, so
# let install bring every installed target up to date (a no-op after a full
# build) rather than stage a stale or missing file.
"$meson" install -C "$build" --destdir "$stage" --quiet \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "meson install"; }

pc=$(find "$stage" -name dray-sdk.pc -print -quit)
[[ -n $pc ]] || fail "dray-sdk.pc was not installed"
dray=$(find "$stage" -path '*/bin/dray' -type f -print -quit)
[[ -x $dray ]] || fail "dray was not installed"
for h in dray/dray.h dray/abi.h dray/config.h dray/host.h dray/plugin.h \
         dray-sdk/mock_host.h dray-sdk/validate.h; do
  [[ -n $(find "$stage" -path "*/include/$h" -print -quit) ]] ||
    fail "header $h was not installed"
done

# A .pc file names absolute paths under the configured prefix; a DESTDIR
# install puts them under the stage, so prefix every absolute variable with
# it, as a packager's relocation does. Nothing else is changed.
sed -i -E "s#^([A-Za-z_]+)=/#\\1=$stage/#" "$pc"
pcdir=$(dirname "$pc")

# The pc file's ABI version is the one of the installed headers.
abi_h=$(find "$stage" -path '*/include/dray/abi.h' -print -quit)
for part in MAJOR MINOR; do
  want=$(sed -n "s/^#define DRAY_ABI_$part \([0-9]*\).*/\1/p" "$abi_h")
  var=abi_$(tr '[:upper:]' '[:lower:]' <<<"$part")
  got=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable="$var" dray-sdk)
  [[ $got == "$want" ]] || fail "dray-sdk.pc says $var=$got, abi.h says $want"
done

# --- 2. build the template outside the tree --------------------------------
work=$tmp/stamp-plugin
mkdir -p "$work"
tar -C "$src/plugin-template" --exclude='./build*' -cf - . | tar -C "$work" -xf -

setup_args=()
if [[ $sanitize != none && -n $sanitize ]]; then
  # The staged libdray-sdk.a is instrumented: its users must link the
  # sanitizer runtimes too.
  setup_args+=("-Db_sanitize=$sanitize" -Db_lundef=false)
fi
(
  cd "$work"
  unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CPATH C_INCLUDE_PATH LIBRARY_PATH
  export PKG_CONFIG_PATH=$pcdir
  "$meson" setup build "${setup_args[@]}" >"$tmp/setup.log" 2>&1 ||
    { cat "$tmp/setup.log" >&2; exit 1; }
  "$meson" compile -C build >"$tmp/compile.log" 2>&1 ||
    { cat "$tmp/compile.log" >&2; exit 1; }
) || fail "the template does not build against the installed SDK"

# It must have used the staged SDK, never the source tree's headers.
if grep -q -- "$src/sdk" "$work/build/compile_commands.json"; then
  fail "the template build reached into the source tree ($src/sdk)"
fi
grep -q -- "-I$stage" "$work/build/compile_commands.json" ||
  fail "the template build did not use the staged SDK headers"
if grep -qi "warning" "$tmp/compile.log"; then
  cat "$tmp/compile.log" >&2
  fail "the template builds with warnings"
fi

# --- 3. its unit tests -------------------------------------------------------
(cd "$work" && PKG_CONFIG_PATH=$pcdir "$meson" test -C build --print-errorlogs \
  >"$tmp/unit.log" 2>&1) || { cat "$tmp/unit.log" >&2; fail "template unit tests"; }

# --- 4. install into the SDK's plugin directory ----------------------------
"$meson" install -C "$work/build" --quiet >"$tmp/tinstall.log" 2>&1 ||
  { cat "$tmp/tinstall.log" >&2; fail "template install"; }
pluginsdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=pluginsdir dray-sdk)
[[ -f $pluginsdir/stamp.so ]] || fail "stamp.so not installed in $pluginsdir"
[[ -f $pluginsdir/file.so ]] || fail "file.so not installed in $pluginsdir"

# Only the installed plugins: no build-tree plugin directories.
export DRAY_PLUGIN_PATH=$pluginsdir
export DRAY_NO_BUILD_PLUGINS=1
unset DRAY_LOG

"$dray" plugins --describe stamp >"$tmp/describe.txt" 2>&1 ||
  { cat "$tmp/describe.txt" >&2; fail "dray plugins --describe stamp"; }
grep -q "signing_key" "$tmp/describe.txt" || fail "describe does not list signing_key"
grep -E -q "signing_key +string +secret" "$tmp/describe.txt" ||
  fail "describe does not mark signing_key as secret"
grep -E -q "header +string +required" "$tmp/describe.txt" ||
  fail "describe does not mark header as required"

# The codec side, offline: dray convert with the installed plugin.
printf 'header: converted\nvalue: offline\n' >"$tmp/stamp.yaml"
printf '%s\n' '{"specversion":"1.0","id":"01J0000000000000000000CONV","source":"dray://t/x","type":"dray.order.created.v1","data":{"order_id":"C-1"}}' \
  >"$tmp/in.jsonl"
"$dray" convert --plugin stamp --config "$tmp/stamp.yaml" --decode "$tmp/in.jsonl" \
  >"$tmp/converted.jsonl" 2>"$tmp/convert.log" ||
  { cat "$tmp/convert.log" >&2; fail "dray convert --plugin stamp --decode"; }
grep -q '"converted":"offline"' "$tmp/converted.jsonl" ||
  { cat "$tmp/converted.jsonl" "$tmp/convert.log" >&2; fail "dray convert did not stamp the event"; }

# --- 5. a site: file source -> stamp -> file sink ---------------------------
var=$tmp/var
secret=5eed0123456789abcdeffedcba987654
stamp_value="installed-sdk-$$"
cat >"$tmp/site.yaml" <<EOF
site: template-test
data_dir: $var
log_level: info
shutdown_timeout_ms: 5000
instances:
  inbox:
    plugin: file
    poll_interval_ms: 50
    config:
      inbound_dir: $var/inbox
      format: body
      type: dray.order.created.v1
  stamper:
    plugin: stamp
    config:
      header: stampedby
      value: $stamp_value
      signing_key: "\${env:STAMP_TEST_KEY}"
  outbox:
    plugin: file
    config:
      outbound_dir: $var/out
routes:
  - { from: inbox, types: ["dray.order.*"], to: [stamper] }
  - { from: stamper, types: ["dray.order.*"], to: [outbox] }
EOF
export STAMP_TEST_KEY=$secret

"$dray" check -c "$tmp/site.yaml" >"$tmp/check.log" 2>&1 ||
  { cat "$tmp/check.log" >&2; fail "dray check of the site"; }

"$dray" run -c "$tmp/site.yaml" >"$tmp/run.log" 2>&1 &
dray_pid=$!

# Ready once the file source made its inbox; bounded.
for _ in $(seq 1 100); do
  [[ -d $var/inbox ]] && break
  kill -0 "$dray_pid" 2>/dev/null || { cat "$tmp/run.log" >&2; fail "dray exited early"; }
  sleep 0.1
done
[[ -d $var/inbox ]] || { cat "$tmp/run.log" >&2; fail "dray did not create the inbox"; }

# Written elsewhere and renamed in, as the file source expects.
printf '{"order_id":"TPL-%s","lines":[{"sku":"A","qty":2}]}\n' "$$" >"$var/order.tmp"
mv "$var/order.tmp" "$var/inbox/order-1.json"

out=
for _ in $(seq 1 100); do # up to 10 s
  out=$(find "$var/out" -maxdepth 1 -name '*.json' -print -quit 2>/dev/null || true)
  [[ -n $out ]] && break
  sleep 0.1
done
[[ -n $out ]] || { cat "$tmp/run.log" >&2; fail "no output file within 10 s"; }

grep -q "\"stampedby\":\"$stamp_value\"" "$out" ||
  { cat "$out" >&2; fail "the stamp attribute is not in the output event"; }
grep -E -q '"stampsig":"[0-9a-f]{16}"' "$out" ||
  { cat "$out" >&2; fail "the signature attribute is not in the output event"; }
grep -q '"causationid":"' "$out" ||
  { cat "$out" >&2; fail "the output event does not name the event it was derived from"; }
grep -q "\"order_id\":\"TPL-$$\"" "$out" ||
  { cat "$out" >&2; fail "the order body did not come through"; }

kill -TERM "$dray_pid"
status=0
wait "$dray_pid" || status=$?
dray_pid=
if [[ $status -ne 0 ]]; then
  cat "$tmp/run.log" >&2
  fail "dray exited with status $status after SIGTERM (expected 0)"
fi
if grep -q -- "$secret" "$tmp/run.log" "$tmp/check.log" "$tmp/describe.txt"; then
  fail "the signing key appears in dray's output"
fi
echo "OK: plugin-template built from the installed SDK and stamped a message"
