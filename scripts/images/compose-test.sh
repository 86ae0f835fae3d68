#!/usr/bin/env bash
# docker/compose.yaml with podman-compose: builds the images it needs (cached), brings the
# platform up on a spare port under its own project name, waits for the gateway's
# /health/ready (postgres, redis, minio, migrations and seed from their images), then takes it
# down with its volumes. Prints the time to ready. Run by `scripts/images/smoke.sh --compose`.
# Usage: scripts/images/compose-test.sh [--keep] [--no-build]
set -euo pipefail
# shellcheck source=./lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEEP=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --no-build) BUILD=0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done
cd "$ROOT_DIR"
require_root_or_die
# The seed target and the postgres/redis/minio images (the service images are built by the
# smoke test's --build; compose uses the same tags).
((BUILD == 0)) || bash scripts/images/build.sh seed >"$IMAGES_LOGS/compose-build.log" 2>&1 ||
  { tail -n 30 "$IMAGES_LOGS/compose-build.log"; die "building the compose images failed"; }

PROJECT=bible-compose-smoke
WORK="$(mktemp -d)"
export GATEWAY_HOST_PORT
GATEWAY_HOST_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export SIGNING_KEY_FILE="$WORK/signing-key.pem"
openssl genpkey -algorithm ed25519 -out "$SIGNING_KEY_FILE" 2>/dev/null
chmod 0444 "$SIGNING_KEY_FILE"
# podman-compose passes --runtime to podman; --podman-run-args adds the ulimits this host needs.
compose() {
  podman-compose --podman-args="--runtime runc" -p "$PROJECT" -f docker/compose.yaml "$@"
}
down() {
  if ((KEEP == 0)); then
    compose down -v >"$IMAGES_LOGS/compose-down.log" 2>&1 || true
    # podman-compose 1.0 leaves the project network behind.
    pm network rm "${PROJECT}_default" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap down EXIT

t0="$(now)"
log "podman-compose up -d (project $PROJECT, gateway on 127.0.0.1:$GATEWAY_HOST_PORT; log: $IMAGES_LOGS/compose-up.log)"
compose --podman-run-args="${PODMAN_RUN_FLAGS[*]}" up -d --no-build >"$IMAGES_LOGS/compose-up.log" 2>&1 ||
  { tail -n 30 "$IMAGES_LOGS/compose-up.log"; die "podman-compose up failed"; }
if ! wait_for_http "http://127.0.0.1:$GATEWAY_HOST_PORT/health/ready" 300; then
  compose ps || true
  for c in migrate seed api-gateway; do
    echo "--- $c"
    pm logs --tail 20 "${PROJECT}_${c}_1" 2>&1 || true
  done
  die "gateway not ready on 127.0.0.1:$GATEWAY_HOST_PORT after 300 s"
fi
ok "compose: gateway /health/ready after $(elapsed "$t0")"
echo "FIGURE compose up to gateway ready: $(elapsed "$t0")"
# The one-shot seed finishes on its own (it synthesises the narration: a minute or two).
seed="${PROJECT}_seed_1"
deadline=$((SECONDS + 300))
until [[ "$(pm inspect --format '{{.State.Status}}' "$seed" 2>/dev/null)" == exited &&
  "$(pm inspect --format '{{.State.ExitCode}}' "$seed")" == 0 ]]; do
  ((SECONDS < deadline)) || { pm logs --tail 20 "$seed"; die "the seed did not complete within 300 s"; }
  sleep 2
done
echo "FIGURE compose seed completed after $(elapsed "$t0"): $(pm logs "$seed" 2>&1 | grep -m1 'content:' | sed 's/^ *//')"
pm ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}} {{.Status}}' | sed 's/^/FIGURE   /'
