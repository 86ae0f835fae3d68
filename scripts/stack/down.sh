#!/usr/bin/env bash
# Stops what scripts/stack/up.sh started: services (SIGTERM, up to 15 s, then SIGKILL), MinIO,
# Redis, Postgres (pg_ctl stop -m fast). Only processes recorded in .stack/run or carrying this
# stack's BIBLE_STACK_DIR marker are touched.
#
# Usage: scripts/stack/down.sh [options]    (npm run stack:down -- [options])
#   --services-only   stop only the four services, leave Postgres/Redis/MinIO running
#   --purge           afterwards delete the stack's state (pg/, redis/, minio/, logs/, run/, keys/,
#                     stack.env); keeps .stack/bin (MinIO, tools) and other files in .stack
#   -h, --help
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { print_header "${BASH_SOURCE[0]}"; }

PURGE=0
SERVICES_ONLY=0
while (($#)); do
  case "$1" in
    --purge) PURGE=1 ;;
    --services-only) SERVICES_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done
((PURGE && SERVICES_ONLY)) && die "--purge and --services-only cannot be combined"

if [[ ! -d "$STACK_DIR" ]]; then
  log "nothing to stop: $STACK_DIR does not exist"
  exit 0
fi

acquire_lock
resolve_ports 2>/dev/null
MARKER="BIBLE_STACK_DIR=$STACK_DIR"
FAILED=0

# stop_component <name> <cmdline-substring> <timeout>
stop_component() {
  local name="$1" want="$2" timeout="$3" pid
  if pid="$(component_pid "$name" "$want")"; then
    log "$name: stopping (pid $pid)"
    if stop_pid "$name" "$pid" "$timeout"; then ok "$name stopped"; else err "$name (pid $pid) is still running"; FAILED=1; return 0; fi
  elif [[ -f "$(pid_file "$name")" ]]; then
    log "$name: not running (removing stale pid file)"
  fi
  rm -f "$(pid_file "$name")"
}

stop_postgres() { # [data dir] [name]
  local pid data="${1:-$PG_DATA}" name="${2:-postgres}"
  if [[ -s "$data/postmaster.pid" ]]; then
    pid="$(head -n 1 "$data/postmaster.pid" | tr -dc '0-9')"
    if is_running "$pid" postgres; then
      log "$name: stopping (pid $pid, pg_ctl stop -m fast)"
      local -a cmd=("$PG_BIN/pg_ctl" stop -D "$data" -m fast -w -t 60 -s)
      if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "${cmd[@]}") || true
      else
        (cd / && "${cmd[@]}") || true
      fi
      if is_running "$pid"; then
        warn "pg_ctl stop did not finish; sending SIGQUIT (immediate shutdown)"
        kill -QUIT "$pid" 2>/dev/null || true
        sleep 2
      fi
      if is_running "$pid"; then err "$name (pid $pid) is still running"; FAILED=1; return 0; fi
      ok "$name stopped"
    fi
  fi
  rm -f "$(pid_file "$name")"
}

# Processes this stack started whose pid file was lost: those carrying the stack's marker in
# their environment (services and their children, e.g. ffmpeg; MinIO), plus a redis-server whose
# working directory is this stack's redis dir (Redis overwrites its environ for its proc title).
# Never matches anything this stack did not start.
marked_pids() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    if { tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep -qxF "$MARKER"; then
      printf '%s\n' "$pid"
    elif [[ "$(cat "$d/comm" 2>/dev/null)" == redis-server && "$(readlink "$d/cwd" 2>/dev/null)" == "$REDIS_DIR/data" ]]; then
      printf '%s\n' "$pid"
    fi
  done
}

sweep_leftovers() {
  local -a pids
  mapfile -t pids < <(marked_pids)
  ((${#pids[@]})) || return 0
  warn "stopping leftover processes of this stack without pid files: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    mapfile -t pids < <(marked_pids)
    ((${#pids[@]})) || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.5
  mapfile -t pids < <(marked_pids)
  if ((${#pids[@]})); then err "could not stop: ${pids[*]}"; FAILED=1; fi
}

for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
  svc="${SERVICES[$i]}"
  stop_component "$svc" "$ROOT_DIR/services/$svc/dist/main.js" 15
done

if ((SERVICES_ONLY == 0)); then
  stop_component jaeger "$STACK_BIN/jaeger" 15
  stop_component minio "$STACK_BIN/minio" 15
  stop_component redis redis-server 30
  stop_postgres
  # The clusters of the integration lanes (up.sh --test-lanes).
  for lane in "$PG_DIR"/lane*; do
    if [[ -d $lane ]]; then stop_postgres "$lane" "postgres-${lane##*/}"; fi
  done
  sweep_leftovers
fi

if ((FAILED)); then
  die "some components could not be stopped$( ((PURGE)) && echo '; not purging')"
fi

if ((PURGE)); then
  # Only what up.sh creates; .stack/bin and anything other tools keep in .stack stay.
  log "purging stack state in $STACK_DIR (keeping bin/ and other tools' files)"
  rm -rf "$PG_DIR" "$REDIS_DIR" "$MINIO_DIR" "$STACK_LOGS" "$STACK_KEYS" "$STACK_ENV_FILE" "$STACK_RUN"
  ok "purged"
fi
ok "stack stopped"
