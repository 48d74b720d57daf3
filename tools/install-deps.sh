#!/usr/bin/env bash
# Installs the Debian 12 packages Dray needs to build, test and run its
# demo. Skips apt-get entirely when everything is already there.
set -euo pipefail
packages=(
  build-essential meson ninja-build pkg-config python3
  libzmq3-dev libjson-c-dev libyaml-dev libmicrohttpd-dev libsqlite3-dev
  libcurl4-openssl-dev libxml2-dev libssl-dev openssl
  zlib1g-dev # AS2 compressed-data (edi_x12): Debian's OpenSSL has no zlib
  libcmocka-dev abigail-tools valgrind clang libclang-rt-14-dev curl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
