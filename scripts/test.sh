#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test
# (unit, plugin, integration, fuzz corpora) under ctest.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/deps.sh" test
dir=$here/build
args=()
if [ "${1:-}" = --sanitize ]; then
  dir=$here/build-asan
  args=(-DGF_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
bash "$here/scripts/build.sh" "$dir" "${args[@]}"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 300
