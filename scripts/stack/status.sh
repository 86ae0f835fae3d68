#!/usr/bin/env bash
# One line per component of the local stack: state, pid, port, readiness.
# Exit status: 0 if every component is running and ready, 3 otherwise.
#
# Usage: scripts/stack/status.sh [--deps-only]   (npm run stack:status -- [--deps-only])
#   --deps-only   only Postgres, Redis and MinIO (what `up.sh --deps-only` starts)
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEPS_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --deps-only) DEPS_ONLY=1 ;;
    -h | --help) print_header "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option: $arg" ;;
  esac
done

resolve_ports 2>/dev/null
ALL_OK=1
row() { printf '%-16s %-8s %-8s %-6s %s\n' "$@"; }
row COMPONENT STATE PID PORT READINESS

# report <name> <pid-or-empty> <port> <ready: 0/1> <readiness text>
report() {
  local name="$1" pid="$2" port="$3" ready="$4" text="$5" state=stopped
  if [[ -n "$pid" ]]; then state=running; fi
  if [[ -z "$pid" ]] && port_open "$port"; then
    text="port $port in use by a process without a pid file here (another program, or a leftover: try stack:down)"
  fi
  [[ -n "$pid" && "$ready" == 1 ]] || ALL_OK=0
  row "$name" "$state" "${pid:--}" "$port" "$text"
}

# Postgres
pid=''
if [[ -s "$PG_DATA/postmaster.pid" ]]; then
  p="$(head -n 1 "$PG_DATA/postmaster.pid" | tr -dc '0-9')"
  is_running "$p" postgres && pid="$p"
fi
if [[ -n "$pid" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 3 2>/dev/null; then
  report postgres "$pid" "$PGPORT" 1 "ready (pg_isready)"
else
  report postgres "$pid" "$PGPORT" 0 "$([[ -n "$pid" ]] && echo 'not accepting connections' || echo -)"
fi

# Redis
pid="$(component_pid redis redis-server || true)"
if [[ -n "$pid" ]] && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; then
  report redis "$pid" "$REDIS_PORT" 1 "ready (PING → PONG)"
else
  report redis "$pid" "$REDIS_PORT" 0 "$([[ -n "$pid" ]] && echo 'no PONG' || echo -)"
fi

# MinIO
pid="$(component_pid minio "$STACK_BIN/minio" || true)"
code="$([[ -n "$pid" ]] && http_code "http://127.0.0.1:$S3_PORT/minio/health/live" || echo -)"
if [[ "$code" == 200 ]]; then
  report minio "$pid" "$S3_PORT" 1 "ready (/minio/health/live 200; console :$S3_CONSOLE_PORT)"
else
  report minio "$pid" "$S3_PORT" 0 "$([[ -n "$pid" ]] && echo "/minio/health/live → $code" || echo -)"
fi

# Jaeger: listed only when stack:up --with-tracing started it.
if pid="$(component_pid jaeger "$STACK_BIN/jaeger")"; then
  code="$(http_code "http://127.0.0.1:$JAEGER_HEALTH_PORT/status")"
  report jaeger "$pid" "$JAEGER_UI_PORT" "$([[ "$code" == 200 ]] && echo 1 || echo 0)" "UI; OTLP/HTTP :$JAEGER_OTLP_PORT; /status → $code"
fi

# Services
if ((DEPS_ONLY == 0)); then
  for svc in "${SERVICES[@]}"; do
    var="${SERVICE_PORT_VAR[$svc]}"
    port="${!var}"
    pid="$(component_pid "$svc" "$ROOT_DIR/services/$svc/dist/main.js" || true)"
    code="$([[ -n "$pid" ]] && http_code "http://127.0.0.1:$port/health/ready" || echo -)"
    if [[ "$code" == 200 ]]; then
      report "$svc" "$pid" "$port" 1 "ready (/health/ready 200)"
    else
      report "$svc" "$pid" "$port" 0 "$([[ -n "$pid" ]] && echo "/health/ready → $code" || echo -)"
    fi
  done
fi

((ALL_OK)) && exit 0
exit 3
