#!/usr/bin/env bash
# The fast lane (`npm run test:fast`, and the first test step of `npm test`): lint, typecheck and
# unit tests of the Nx projects (tools/nx-projects.js); it needs no stack, so it runs before the
# stack-backed suites. Extra arguments go to nx (npm test passes --excludeTaskDependencies: it has
# just built everything).
#   NX_BASE set (e.g. the target branch of a change): nx affected -t lint typecheck test, only the
#     projects the change affects, each task cached in .nx/cache.
#   otherwise (everything): nx run-many -t typecheck test, and one ESLint run over the repository
#     alongside it: one process shares the parsed type declarations, which 17 per-project ESLint
#     processes would each parse again (2.7x the CPU: 133 s against 48 s here).
# Each project's unit tests print `unit: N passed, N failed`; Nx lists failed tasks at the end, and
# a failed whole-repository lint prints `eslint: failed`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
use_project_node && ensure_node_modules || exit 1
export NX_DAEMON=${NX_DAEMON:-false} NX_NO_CLOUD=true NX_TUI=false
common=(--parallel="${NX_PARALLEL:-2}" --outputStyle=static --nxBail=false)
if [[ -n ${NX_BASE:-} ]]; then
  exec npx nx affected -t lint typecheck test "${common[@]}" --base="$NX_BASE" \
    --head="${NX_HEAD:-HEAD}" "$@"
fi

# The module-boundaries rule reads the project graph Nx caches; compute it before ESLint starts.
npx nx show projects >/dev/null || exit 1
lint_log=$(mktemp)
trap 'rm -f "$lint_log"' EXIT
npx eslint . --max-warnings=0 >"$lint_log" 2>&1 &
lint_pid=$!
npx nx run-many -t typecheck test "${common[@]}" "$@"
rc=$?
wait "$lint_pid"
lint_rc=$?
echo
echo "> eslint . --max-warnings=0"
cat "$lint_log"
if [[ $lint_rc -ne 0 ]]; then
  echo "eslint: failed"
  rc=1
fi
exit "$rc"
