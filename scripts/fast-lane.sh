#!/usr/bin/env bash
# The fast lane (`npm run test:fast`, and the first test step of `npm test`): lint, typecheck and
# unit tests of every Nx project (tools/nx-projects.js), in parallel and cached in .nx/cache; it
# needs no stack, so it runs before the stack-backed suites.
# With NX_BASE set (e.g. the target branch of a change) only the projects affected since it run.
# Each project's unit tests print `unit: N passed, N failed`; Nx lists failed tasks at the end.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
use_project_node && ensure_node_modules || exit 1
export NX_DAEMON=${NX_DAEMON:-false} NX_NO_CLOUD=true NX_TUI=false
targets=(-t lint typecheck test --parallel="${NX_PARALLEL:-2}" --outputStyle=static --nxBail=false)
if [[ -n ${NX_BASE:-} ]]; then
  exec npx nx affected "${targets[@]}" --base="$NX_BASE" --head="${NX_HEAD:-HEAD}"
fi
exec npx nx run-many "${targets[@]}"
