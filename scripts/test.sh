#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, builds, runs the fast lane (lint,
# typecheck, unit tests), starts the local stack's dependencies (Postgres, Redis, MinIO), then
# runs the stack-backed suites.
# Ends with `N passed, N failed` over every step.
set -uo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT_DIR"

passed=0
failed=0
summary=()
started=$(date +%s)

step() { # name command...
  local name=$1
  shift
  local t0=$(date +%s)
  echo
  echo "=== $name"
  if "$@"; then
    summary+=("ok    $name ($(($(date +%s) - t0))s)")
    return 0
  fi
  summary+=("FAIL  $name ($(($(date +%s) - t0))s)")
  return 1
}

# Test steps report their own counts; a failing step that printed none counts as one failure.
count_step() { # name logfile command...
  local name=$1 log=$2
  shift 2
  step "$name" bash -c '"$@" 2>&1 | tee "$0"; exit ${PIPESTATUS[0]}' "$log" "$@"
  local rc=$?
  local line
  line=$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [[ -n "$line" ]]; then
    passed=$((passed + $(sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
  elif [[ $rc -ne 0 ]]; then
    failed=$((failed + 1))
  fi
}

gate() { # a prerequisite step: counted as one check; returns its status so `|| finish` stops
  if step "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    return 1
  fi
}

finish() {
  echo
  echo "=== summary ($(($(date +%s) - started))s)"
  printf '  %s\n' "${summary[@]}"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit $?
}

# The fast lane (scripts/fast-lane.sh: lint, Nx typecheck and unit tests per project, before any
# stack-backed suite; the build above already built every project, so Nx does not again).
# Counted as before its steps were one: lint (and typecheck) one check, plus each unit test; a
# failing task that printed no count is one failure.
fast_lane() {
  local log="$logs/fast-lane.log" rc line p=0 f=0
  step "fast lane (nx: lint, typecheck, unit tests)" bash -c \
    'bash scripts/fast-lane.sh --excludeTaskDependencies 2>&1 | tee "$0"; exit ${PIPESTATUS[0]}' "$log"
  rc=$?
  while read -r line; do
    p=$((p + $(sed -E 's/^unit: ([0-9]+) passed.*/\1/' <<<"$line")))
    f=$((f + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
  done < <(awk '/^> nx run [^ ]+:test/ { task = $4 }
                /^unit: [0-9]+ passed, [0-9]+ failed/ { count[task] = $0 }
                END { for (t in count) print count[t] }' "$log") # Nx may print a task's output twice
  if grep -qE '^ *- [^ ]+:(lint|typecheck|build)$|^eslint: failed$' "$log"; then f=$((f + 1)); else p=$((p + 1)); fi
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
}

logs="$ROOT_DIR/.stack/test-logs"
mkdir -p "$logs"

# Everything below (npm, tsc, eslint, the test runner, every service it starts) runs on the
# project's pinned Node, whatever `node` the caller's npm ran on.
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
gate "runtime (Node $PROJECT_NODE_VERSION)" use_project_node || finish
gate "install (npm install, native modules for Node $PROJECT_NODE_VERSION)" ensure_node_modules || finish
# helm and Jaeger v2 are built from their Go modules (minutes on a cold Go cache, Jaeger the
# longest): in the background from here, so downloads and compiling overlap the build and the fast
# lane; the gate before the integration tests waits for it.
tools_log="$logs/tools.log"
bash scripts/stack/install-tools.sh helm jaeger >"$tools_log" 2>&1 &
tools_pid=$!
wait_tools() { wait "$tools_pid"; local rc=$?; cat "$tools_log"; return $rc; }
# promtool (the deploy checks, the last step) too, at the lowest CPU priority: it compiles on the
# cores the stack-backed suites leave idle instead of taking minutes of its own at the end.
promtool_log="$logs/promtool.log"
nice -n 19 bash scripts/stack/install-tools.sh promtool >"$promtool_log" 2>&1 &
promtool_pid=$!
gate "build (tsc -b)" npm run build || finish
fast_lane
gate "format (prettier --check)" npm run format:check
gate "stack dependencies (postgres, redis, minio)" bash scripts/stack/up.sh --deps-only --test-lanes 3 || finish

set -a
# shellcheck disable=SC1091
. .stack/stack.env
set +a
export TEST_LOG_LEVEL=${TEST_LOG_LEVEL:-warn}

# Headless Chromium for the API reference test (Debian's chromium, installed when missing).
gate "chromium (API reference test)" bash scripts/stack/ensure-chromium.sh
# Debian's prometheus for the dashboards-and-alerts test (tests/src/e2e/monitoring.int-spec.ts).
gate "prometheus (dashboards and alerts test)" bash scripts/stack/ensure-prometheus.sh
# helm (renders the chart's rules for the monitoring test) and Jaeger v2 (trace backend test),
# started in the background above.
gate "helm and jaeger (monitoring and trace backend tests)" wait_tools
# Beside the two integration lanes, a side lane runs Schemathesis and then the container images
# (all of them mostly wait on processes), on the third Postgres cluster so that their seeds never
# hold back a lane's feeds. Their output is shown, and counted, after the integration step.
side_lane() {
  local server=${TEST_LANE2_DATABASE_URL:-}
  # Schemathesis over every operation of the OpenAPI document (issue 14): zero failures and zero
  # "schema validation mismatch" warnings, against a gateway on the test stack.
  SCHEMATHESIS_SERVER_URL=$server bash scripts/schemathesis/run.sh >"$logs/side-schemathesis.log" 2>&1
  echo $? >"$logs/side-schemathesis.rc"
  # Container images: build with buildah, run the platform from them, compose up/down (issue 17).
  if [[ ${IMAGES_SMOKE_SKIP:-0} != 1 ]]; then
    IMAGES_SMOKE_DATABASE_URL=${server:+${server%/*}/bible} \
      bash scripts/images/smoke.sh --build --compose >"$logs/side-images.log" 2>&1
    echo $? >"$logs/side-images.rc"
  fi
}
# The side lane's log of <name> and its exit status (a missing status is a failure).
side_result=(bash -c 'cat "$0.log"; exit "$(cat "$0.rc" 2>/dev/null || echo 1)"')
rm -f "$logs"/side-*.rc
side_lane &
side_pid=$!
count_step "integration tests" "$logs/integration.log" env INTEGRATION_LANES=2 node scripts/run-tests.mjs integration
side_started=$(date +%s)
wait "$side_pid"
echo "(the side lane ended $(($(date +%s) - side_started)) s after the integration lanes)"
count_step "schemathesis (OpenAPI fuzzing, side lane)" "$logs/schemathesis.log" "${side_result[@]}" "$logs/side-schemathesis"
if [[ ${IMAGES_SMOKE_SKIP:-0} != 1 ]]; then
  count_step "container images (build, smoke, compose; side lane)" "$logs/images.log" "${side_result[@]}" "$logs/side-images"
fi
# A report, never a failure: what has a newer release (docs/dependencies.md says what is held back).
step "dependency report (npm outdated)" bash -c 'npm outdated; true'
wait "$promtool_pid" || cat "$promtool_log" # deploy-checks builds it again if this failed
if [[ -f scripts/deploy-checks.sh ]]; then
  gate "deploy manifests (helm lint, kubeconform)" bash scripts/deploy-checks.sh
fi
finish
