#!/usr/bin/env bash
# Image smoke test (`npm run images:smoke`): runs the platform from its container images against
# the local stack's Postgres, Redis and MinIO, configured the way the Helm chart configures it.
#   - env names and values, uid/gid, read-only root and writable mounts come from the rendered
#     chart (deploy/k8s/bible-packages.yaml via chart-env.py); only addresses, credentials, ports,
#     its own database/bucket/queue prefix are substituted
#   - migrations run from the image with the chart's migrations-job command
#   - four services (two package-builders) start with podman on spare host ports, read-only root,
#     tmpfs /tmp, numeric non-root user; time to /health/ready is measured
#   - a text package is built and downloaded through the containerised gateway and verified with
#     `bible-package verify` and the public key the gateway publishes
#   - a builder is stopped with `podman stop` mid-build: SIGTERM must reach node (clean exit, no
#     SIGKILL) and the job must still complete (drained, or released to the other builder)
#   - image metadata (user, healthcheck, OCI labels, size < 250 MB) and file listings (no
#     compilers, npm, .npmrc, sources, headers, keys)
#   - with --compose: docker/compose.yaml up with podman-compose, gateway /health/ready, down
# Ends with `images: N passed, N failed`.
#
# Usage: scripts/images/smoke.sh [--build] [--compose] [--keep]
#   --build    run scripts/images/build.sh first (cached: seconds when nothing changed)
#   --compose  also bring docker/compose.yaml up and down (builds the dependency images)
#   --keep     leave the containers running (for debugging; remove with podman rm -f)
# Needs: root, the stack (scripts/stack/up.sh --deps-only), `npm run build` on the host (seed,
# token and the verify CLI run from the host's build).
set -uo pipefail
# shellcheck source=./lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e

BUILD=0
COMPOSE=0
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --build) BUILD=1 ;;
    --compose) COMPOSE=1 ;;
    --keep) KEEP=1 ;;
    -h | --help) print_header "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

cd "$ROOT_DIR" || exit 1
require_root_or_die
mkdir -p "$IMAGES_LOGS"
WORK="$(mktemp -d)"
NAME="bible-smoke"
MAX_IMAGE_MB=250
SMOKE_DB=bible_images
SMOKE_BUCKET=bible-images-smoke
SMOKE_QUEUE_PREFIX=images-smoke
RENDERED=deploy/k8s/bible-packages.yaml
STARTED="$(now)"

passed=0
failed=0
# check <name> <command...>: one counted check; output shown only on failure.
check() {
  local name=$1 t0 log
  shift
  t0=$(now)
  log="$WORK/check-$((passed + failed)).log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf '  ok    %s (%s)\n' "$name" "$(elapsed "$t0")"
    sed -n 's/^FIGURE //p' "$log" | sed 's/^/        /'
    return 0
  fi
  failed=$((failed + 1))
  printf '  FAIL  %s (%s)\n' "$name" "$(elapsed "$t0")"
  tail -n 40 "$log" | sed 's/^/        /'
  return 1
}
finish() {
  cleanup
  echo "images: $passed passed, $failed failed ($(elapsed "$STARTED"))"
  ((failed == 0))
  exit $?
}
containers() { pm ps -a --filter "label=io.bible-packages.smoke=$NAME" --format '{{.Names}}' 2>/dev/null; }
cleanup() {
  if ((KEEP == 0)); then
    local c
    for c in $(containers); do pm rm -f -v -t 5 "$c" >/dev/null 2>&1; done
  fi
  rm -rf "$WORK"
}
trap 'cleanup' EXIT

image() { printf '%s/%s:%s' "$IMAGE_PREFIX" "$1" "$IMAGE_TAG"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "=== container images (smoke test)"
if ((BUILD)); then
  check "images:build (buildah, cached)" bash scripts/images/build.sh --no-deps || finish
fi
for t in "${SERVICE_TARGETS[@]}"; do
  image_exists "$(image "$t")" || { err "$(image "$t") is missing: run npm run images:build"; failed=$((failed + 1)); finish; }
done
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null || apt_install python3-yaml
load_env

# ---------------------------------------------------------------------------------------------
# Image metadata and contents
# ---------------------------------------------------------------------------------------------
image_metadata() { # <target>
  local img ctx user labels hc size
  img="$(image "$1")"
  ctx="$(python3 scripts/images/chart-env.py "$RENDERED" "$1")" || return 1
  user="$(pm image inspect --format '{{.Config.User}}' "$img")"
  [[ "$user" == "$(jq -r '"\(.runAsUser):\(.runAsGroup)"' <<<"$ctx")" ]] || { echo "USER $user does not match the chart's runAsUser/runAsGroup"; return 1; }
  hc="$(pm image inspect --format '{{json .Config.Healthcheck}}' "$img")"
  [[ "$hc" == *health/live* ]] || { echo "no HEALTHCHECK on /health/live: $hc"; return 1; }
  [[ "$(pm image inspect --format '{{json .Config.Entrypoint}}' "$img")" == '["/usr/bin/tini","--"]' ]] || { echo "entrypoint is not tini"; return 1; }
  labels="$(pm image inspect --format '{{json .Config.Labels}}' "$img")"
  local l
  for l in source revision version; do
    jq -e --arg k "org.opencontainers.image.$l" '.[$k] | length > 0' <<<"$labels" >/dev/null || { echo "label org.opencontainers.image.$l missing"; return 1; }
  done
  [[ "$(jq -r '.["org.opencontainers.image.revision"]' <<<"$labels")" == "$(git rev-parse HEAD)" ]] || echo "note: revision label is not HEAD (image built from another commit)"
  size="$(image_size_mb "$img")"
  echo "FIGURE $img: $size MB, user $user, revision $(jq -r '.["org.opencontainers.image.revision"][0:12]' <<<"$labels")"
  ((size < MAX_IMAGE_MB)) || { echo "$img is $size MB (limit $MAX_IMAGE_MB MB)"; return 1; }
}

# Lists every file of the image (export of a created, never started container) and rejects what
# must not ship: a shell or package manager, compilers and build tools, npm, registry
# credentials, TypeScript sources, C headers, private keys and env files.
image_files() { # <target>
  local img list bad
  img="$(image "$1")"
  list="$WORK/files-$1.txt"
  pm create --name "$NAME-files-$1" --label "io.bible-packages.smoke=$NAME" "$img" >/dev/null || return 1
  pm export "$NAME-files-$1" | tar -t >"$list" || return 1
  pm rm -f -v "$NAME-files-$1" >/dev/null
  bad="$(grep -E '(^|/)(gcc|g\+\+|cc1plus|cc1|make|python3|node-gyp|npm|npx|corepack|yarn|bash|dash|sh|apt|apt-get|dpkg|perl)$|(^|/)\.npmrc$|(^|/)\.env(\..*)?$|^usr/local/include/|^usr/lib/gcc/|^app/(services|libs)/[^/]+/src/|^app/(scripts|tests)/|^app/[^n].*\.ts$|^app/.*\.tsbuildinfo$|\.(pem|key)$|^root/\.npm/' "$list" |
    grep -vE '\.d\.ts$' | head -n 20)"
  echo "FIGURE $img: $(wc -l <"$list") files, none of: shell, apt/dpkg, perl, compilers, make, python, npm/npx, .npmrc, .env, src/*.ts, C headers, *.pem/*.key"
  [[ -z "$bad" ]] || { echo "forbidden files in $img:"; echo "$bad"; return 1; }
  grep -q '^usr/local/bin/node$' "$list" && grep -q '^usr/bin/tini$' "$list" || { echo "node or tini missing"; return 1; }
}

for t in "${SERVICE_TARGETS[@]}"; do
  check "$t: non-root uid, HEALTHCHECK, tini, OCI labels, < $MAX_IMAGE_MB MB" image_metadata "$t"
  check "$t: file listing has no build tools, npm or secrets" image_files "$t"
done

# ---------------------------------------------------------------------------------------------
# Database, bucket, seed
# ---------------------------------------------------------------------------------------------
# The stack's Postgres, or the cluster IMAGES_SMOKE_DATABASE_URL names (npm test runs this beside
# the integration lanes, on a cluster of its own).
DB_SERVER="${IMAGES_SMOKE_DATABASE_URL:-$DATABASE_URL}"
DB_URL="${DB_SERVER%/*}/$SMOKE_DB"
# A fresh database each run: migrations run from scratch and every build below is a new job.
prepare_db() {
  psql -X -q -v ON_ERROR_STOP=1 "$DB_SERVER" -c "DROP DATABASE IF EXISTS $SMOKE_DB WITH (FORCE)" &&
    psql -X -q -v ON_ERROR_STOP=1 "$DB_SERVER" -c "CREATE DATABASE $SMOKE_DB"
}
# The chart's migrations Job: same image, same args, DATABASE_URL from the Secret.
migrate_from_image() {
  pm run --rm --name "$NAME-migrate" --label "io.bible-packages.smoke=$NAME" --network host \
    "${PODMAN_RUN_FLAGS[@]}" --read-only --read-only-tmpfs=false --tmpfs /tmp --user 10001:10001 \
    -e NODE_ENV=production -e LOG_LEVEL=info -e "DATABASE_URL=$DB_URL" \
    "$(image api-gateway)" node libs/common/dist/database/cli/migrate.js up
}
# Content: the stack's seed (idempotent; reuses the cached narration audio).
seed() {
  DATABASE_URL="$DB_URL" S3_BUCKET="$SMOKE_BUCKET" node scripts/dist/seed/seed.js
}
check "fresh database $SMOKE_DB" prepare_db || finish
check "migrations from the image (chart's migrations Job args)" migrate_from_image || finish
check "seed $SMOKE_DB / $SMOKE_BUCKET (scripts/dist/seed)" seed || finish

# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
KEY_DIR="$WORK/signing"
mkdir -p "$KEY_DIR"
# Like the chart's Secret volume: readable by the pod's group only.
cp "$SIGNING_PRIVATE_KEY_FILE" "$KEY_DIR/signing-key.pem"
chown -R 10001:10001 "$KEY_DIR"
chmod 0440 "$KEY_DIR/signing-key.pem"

declare -A PORT=()
# start_service <container-name> <component>: podman run with the chart's env and security settings.
start_service() {
  local cname=$1 component=$2 ctx port portvar -a args=() envs=()
  ctx="$(python3 scripts/images/chart-env.py "$RENDERED" "$component")" || return 1
  port="$(free_port)"
  PORT[$cname]=$port
  portvar="$(jq -r --arg p "$(jq -r .port <<<"$ctx")" '.env | to_entries[] | select(.value == $p and (.key | endswith("_PORT"))) | .key' <<<"$ctx")"
  [[ -n "$portvar" ]] || { echo "cannot tell which variable holds the port of $component"; return 1; }
  local name value
  while IFS=$'\t' read -r name value; do
    case "$name" in
      "$portvar") value=$port ;;
      DATABASE_URL) value=$DB_URL ;;
      S3_BUCKET) value=$SMOKE_BUCKET ;;
      *)
        # null: from the chart's Secret; the stack's value of the same name.
        if [[ "$value" == null ]]; then
          [[ -n "${!name:-}" ]] || { echo "$name comes from the chart's Secret but is not in stack.env"; return 1; }
          value="${!name}"
        fi
        ;;
    esac
    envs+=(-e "$name=$value")
  done < <(jq -r '.env | to_entries[] | "\(.key)\t\(.value)"' <<<"$ctx")
  # What the chart's values would add for this installation (config.s3.endpoint, extraEnv).
  envs+=(-e "S3_ENDPOINT=$S3_ENDPOINT" -e "QUEUE_PREFIX=$SMOKE_QUEUE_PREFIX")
  [[ "$component" != package-builder ]] || envs+=(-e "SIGNING_KEY_ID=$SIGNING_KEY_ID")
  jq -e '.readOnlyRootFilesystem' <<<"$ctx" >/dev/null && args+=(--read-only --read-only-tmpfs=false)
  local m
  while read -r m; do
    case "$m" in
      /etc/bible-packages/signing) args+=(-v "$KEY_DIR:$m:ro") ;;
      *) args+=(--tmpfs "$m:rw,mode=1777") ;;
    esac
  done < <(jq -r '.mounts[]' <<<"$ctx")
  pm run -d --name "$cname" --label "io.bible-packages.smoke=$NAME" --network host \
    "${PODMAN_RUN_FLAGS[@]}" --user "$(jq -r '"\(.runAsUser):\(.runAsGroup)"' <<<"$ctx")" \
    "${args[@]}" "${envs[@]}" "$(image "$component")" >/dev/null
}
# wait_ready <container-name>: polls /health/ready, prints the time it took.
wait_ready() {
  local cname=$1 t0=$2 deadline=$((SECONDS + 90))
  until [[ "$(http_code "http://127.0.0.1:${PORT[$cname]}/health/ready")" == 200 ]]; do
    if [[ "$(pm inspect --format '{{.State.Running}}' "$cname" 2>/dev/null)" != true ]]; then
      pm logs --tail 30 "$cname"
      return 1
    fi
    ((SECONDS < deadline)) || { pm logs --tail 30 "$cname"; return 1; }
    sleep 0.2
  done
  echo "FIGURE $cname ready in $(elapsed "$t0") on 127.0.0.1:${PORT[$cname]} as uid $(pm top "$cname" user 2>/dev/null | sed -n 2p | tr -d ' ')"
}
# Read-only root: the service cannot write outside its mounts.
read_only_root() {
  local out
  out="$(pm exec "$1" node -e "try { require('fs').writeFileSync('/app/x', 'x'); console.log('writable') } catch (e) { console.log(e.code) }")"
  echo "FIGURE write to /app: $out; uid $(pm exec "$1" node -p 'process.getuid()')"
  [[ "$out" == EROFS ]] && [[ "$(pm exec "$1" node -p 'process.getuid()')" == 10001 ]]
}

declare -A T0=()
for spec in gateway:api-gateway builder-a:package-builder sync:sync-service notifier:notifier; do
  cname="$NAME-${spec%%:*}"
  T0[$cname]="$(now)"
  check "start $cname from $(image "${spec#*:}") (chart env, read-only, uid 10001)" start_service "$cname" "${spec#*:}" || finish
done
for cname in "$NAME-gateway" "$NAME-builder-a" "$NAME-sync" "$NAME-notifier"; do
  check "$cname /health/ready" wait_ready "$cname" "${T0[$cname]}" || finish
done
check "root filesystem is read-only, process runs as uid 10001" read_only_root "$NAME-gateway"
GW="http://127.0.0.1:${PORT[$NAME-gateway]}"

# ---------------------------------------------------------------------------------------------
# A package through the containerised gateway
# ---------------------------------------------------------------------------------------------
TOKEN="$(node scripts/dist/token.js --sub images-smoke --role user --ttl 3600 2>/dev/null)"
api() { curl -sS --max-time 30 -H "authorization: Bearer $TOKEN" "$@"; }
# request_build <json>: prints the job id, or "package:<id>" when it is already built.
request_build() {
  local body
  body="$(api -H 'content-type: application/json' -d "$1" "$GW/v1/packages")" || return 1
  jq -r 'if .jobId then .jobId elif .packageId then "package:\(.packageId)" else error(tostring) end' <<<"$body"
}
# wait_job <job-id> <timeout-s>: prints the package id once completed.
wait_job() {
  local body status deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    body="$(api "$GW/v1/packages/jobs/$1")"
    status="$(jq -r .status <<<"$body")"
    case "$status" in
      completed) jq -r .packageId <<<"$body"; return 0 ;;
      failed) echo "job $1 failed: $body" >&2; return 1 ;;
    esac
    sleep 0.5
  done
  echo "job $1 not completed after $2 s: $body" >&2
  return 1
}
build_download_verify() {
  local job pkg keys kid t0
  t0="$(now)"
  job="$(request_build '{"packageType":"text","languageEntityId":"eng","textVersionId":"web"}')" || return 1
  if [[ "$job" == package:* ]]; then pkg="${job#package:}"; else pkg="$(wait_job "$job" 300)" || return 1; fi
  echo "FIGURE package $pkg built in $(elapsed "$t0")"
  api -o "$WORK/$pkg.bible" -w 'FIGURE downloaded %{size_download} bytes (HTTP %{http_code})\n' "$GW/v1/packages/$pkg/download" || return 1
  keys="$(curl -sS "$GW/v1/packages/keys")" || return 1
  kid="$(jq -r --arg k "$SIGNING_KEY_ID" '.keys[] | select(.keyId == $k) | .keyId' <<<"$keys")"
  [[ -n "$kid" ]] || { echo "key $SIGNING_KEY_ID not published: $keys"; return 1; }
  jq -r --arg k "$kid" '.keys[] | select(.keyId == $k) | .publicKeyPem' <<<"$keys" >"$WORK/$kid.pem"
  npx --no-install bible-package verify "$WORK/$pkg.bible" --public-key "$kid=$WORK/$kid.pem" | sed 's/^/FIGURE /'
  # A tampered copy must fail verification with the same key.
  cp "$WORK/$pkg.bible" "$WORK/tampered.bible"
  printf 'X' | dd of="$WORK/tampered.bible" bs=1 seek=$(($(stat -c %s "$WORK/tampered.bible") / 2)) conv=notrunc status=none
  if npx --no-install bible-package verify "$WORK/tampered.bible" --public-key "$kid=$WORK/$kid.pem" >/dev/null 2>&1; then
    echo "a tampered package verified"
    return 1
  fi
}
check "build + download a text package through the gateway, bible-package verify" build_download_verify

# ---------------------------------------------------------------------------------------------
# SIGTERM reaches node: stop a builder mid-build
# ---------------------------------------------------------------------------------------------
stop_builder_mid_build() {
  local job body t0 rc pkg waited=0
  # The longest build the seed offers (John's narration); new in this run's fresh database.
  job="$(request_build '{"packageType":"audio","languageEntityId":"eng","audioVersionId":"web-audio-john"}')" || return 1
  [[ "$job" != package:* ]] || { echo "audio package already built (${job#package:}): no build to interrupt"; return 1; }
  until [[ "$(api "$GW/v1/packages/jobs/$job" | jq -r .status)" == active ]]; do
    ((waited++ < 200)) || { echo "job $job never became active"; return 1; }
    sleep 0.1
  done
  body="$(api "$GW/v1/packages/jobs/$job")"
  echo "FIGURE job $job is $(jq -r '"\(.status) \(.stage) \(.progress)%"' <<<"$body") when builder-a gets SIGTERM"
  # SIGTERM (podman's default stop signal) goes to tini, which forwards it to node; the builder
  # stops taking jobs and drains the running one within SHUTDOWN_TIMEOUT_MS (the chart's value,
  # below podman's -t), else exits and the job's lock expires so another builder takes it.
  t0="$(now)"
  pm stop -t 150 "$NAME-builder-a" >/dev/null || return 1
  rc="$(pm inspect --format '{{.State.ExitCode}}' "$NAME-builder-a")"
  echo "FIGURE podman stop took $(elapsed "$t0"); builder-a exit code $rc"
  pm logs "$NAME-builder-a" 2>&1 | grep -iE 'shutdown|signal|drain|closing|completed' | tail -n 5 | cut -c1-200 | sed 's/^/FIGURE   log: /'
  # 137 = SIGKILL after the timeout: node never saw the SIGTERM.
  [[ "$rc" == 0 ]] || { echo "builder-a did not exit cleanly on SIGTERM (exit $rc)"; pm logs --tail 30 "$NAME-builder-a"; return 1; }
  # A second builder for whatever builder-a released.
  T0[$NAME-builder-b]="$(now)"
  start_service "$NAME-builder-b" package-builder || return 1
  wait_ready "$NAME-builder-b" "${T0[$NAME-builder-b]}" || return 1
  pkg="$(wait_job "$job" 300)" || return 1
  body="$(api "$GW/v1/packages/jobs/$job")"
  echo "FIGURE job $job completed: package $pkg ($(jq -c . <<<"$body" | cut -c1-200))"
}
check "podman stop builder-a mid-build: clean exit, the job completes" stop_builder_mid_build

# tini is PID 1 and node its child.
pid1_is_tini() {
  local comm
  comm="$(pm exec "$NAME-gateway" node -p 'require("fs").readFileSync("/proc/1/comm", "utf8").trim()')"
  echo "FIGURE PID 1: $comm"
  [[ "$comm" == tini ]]
}
check "PID 1 is tini" pid1_is_tini
# The image's HEALTHCHECK command, run once by podman (no systemd timers here).
healthcheck() {
  local c
  for c in gateway sync notifier; do
    pm healthcheck run "$NAME-$c" 2>&1 | grep -v systemd || true
    [[ "$(pm inspect --format '{{.State.Health.Status}}' "$NAME-$c")" == healthy ]] || return 1
    echo "FIGURE $NAME-$c: healthy"
  done
}
check "HEALTHCHECK passes (podman healthcheck run)" healthcheck

stop_all() {
  local c rc
  for c in gateway builder-b sync notifier; do
    pm stop -t 40 "$NAME-$c" >/dev/null || return 1
    rc="$(pm inspect --format '{{.State.ExitCode}}' "$NAME-$c")"
    echo "FIGURE $NAME-$c exit $rc"
    [[ "$rc" == 0 ]] || return 1
  done
}
((KEEP)) || check "podman stop the other containers (exit 0 each)" stop_all

if ((COMPOSE)); then
  check "compose: podman-compose up -d, gateway /health/ready, down" bash scripts/images/compose-test.sh
fi
finish
