#!/usr/bin/env bash
# Install the Debian 12 packages gigflow needs, when missing.
#   scripts/deps.sh build   - to build and run gigflow
#   scripts/deps.sh test    - also what the test suite uses
# Every package is named here and in docs/operations.md ("Dependencies").
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libzmq3-dev        # ZeroMQ: edges between stages
  libmsgpack-dev     # msgpack-c: MessagePack records
  libyaml-dev        # pipeline and rules files
  libjansson-dev     # JSON Lines in and out
  libpcre2-dev       # rule patterns
  libsodium-dev      # HMAC pseudonyms of personal data, CURVE keys
  libxxhash-dev      # group-by hash tables
  libsqlite3-dev     # SQLite export/ingest
  libpq-dev          # PostgreSQL export/ingest
  libmicrohttpd-dev  # metrics endpoint
  libxlsxwriter-dev  # Excel export
)
test_pkgs=(
  libcmocka-dev      # unit tests
  clang clang-format # libFuzzer targets, style check
  sqlite3 gawk mawk miller  # independent oracles and benchmark peers
  chromium fonts-noto-cjk   # rendering the report in a real browser
  python3 time procps iproute2 psmisc
  postgresql         # database tests run a private server
)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gigflow: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "gigflow: run as root (or install these packages yourself)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
