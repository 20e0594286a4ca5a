#!/usr/bin/env bash
# The main job: install what is missing, build, and run the default
# pipeline (pipelines/district-overview.yaml) on the bundled sample data.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/deps.sh" build
bash "$here/scripts/build.sh" "$here/build"
export GIGFLOW_OUT=${GIGFLOW_OUT:-$here/out}
mkdir -p "$GIGFLOW_OUT"
"$here/build/bin/gigflow" run "$here/pipelines/district-overview.yaml"
echo
echo "report:       $GIGFLOW_OUT/report.html"
echo "all outputs:  $GIGFLOW_OUT/"
