#!/usr/bin/env bash
# shellcheck disable=SC2030,SC2031 # exports inside ( ... ) subshells are meant to stay local
# Starts the local stack in the background (idempotent: running components are left alone).
#
# Usage: scripts/stack/up.sh [options]      (npm run stack:up -- [options])
#   --deps-only        only Postgres, Redis, MinIO (+ role/databases/extensions, bucket, stack.env)
#   --build            always run `npm run build` (and restart services that are already running)
#   --no-build         never build (fail if services/<name>/dist/main.js is missing)
#   --skip-migrate     do not run `npm run migrate`
#   --skip-seed        do not run `npm run seed`
#   --restart          restart services that are already running
#   --timeout <sec>    readiness wait per service (default 60)
#   --test-lanes <n>   n-1 more Postgres clusters for the parallel integration lanes of
#                      scripts/run-tests.mjs (lane N: port PGPORT+N, database bible_test_laneN,
#                      TEST_LANE<N>_DATABASE_URL in stack.env); default 1 (none)
#   --with-tracing     also start Jaeger v2 (built once with Go into .stack/bin) and restart the
#                      services exporting their traces to it (OTEL_EXPORTER_OTLP_ENDPOINT); the UI
#                      is on JAEGER_UI_PORT (default 16686). Once Jaeger runs, later stack:up runs
#                      keep exporting to it. Ports: JAEGER_OTLP_PORT (4318), JAEGER_GRPC_PORT
#                      (16685), JAEGER_HEALTH_PORT (13133).
#   -h, --help
#
# State lives in <repo>/.stack (override with STACK_DIR): stack.env, keys/, logs/<name>.log,
# run/<name>.pid, pg/, redis/, minio/, bin/minio. Ports are fixed by stack.env once generated;
# before that PGPORT, REDIS_PORT, S3_PORT, S3_CONSOLE_PORT, GATEWAY_PORT, BUILDER_PORT, SYNC_PORT,
# NOTIFIER_PORT choose them. Missing Debian packages are apt-installed, MinIO is `go install`ed;
# migrations, the seed and the services run on the project's Node (scripts/runtime.sh, .stack/node).
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/runtime.sh
. "$ROOT_DIR/scripts/runtime.sh"
# shellcheck source=scripts/stack/push-fakes.sh
. "$(dirname "${BASH_SOURCE[0]}")/push-fakes.sh"

usage() { print_header "${BASH_SOURCE[0]}"; }

DEPS_ONLY=0
BUILD=auto
MIGRATE=1
SEED=1
RESTART=0
READY_TIMEOUT=60
TRACING=0
TEST_LANES=1
while (($#)); do
  case "$1" in
    --deps-only) DEPS_ONLY=1 ;;
    --build) BUILD=always RESTART=1 ;;
    --no-build) BUILD=never ;;
    --skip-migrate) MIGRATE=0 ;;
    --skip-seed) SEED=0 ;;
    --restart) RESTART=1 ;;
    --with-tracing) TRACING=1 RESTART=1 ;;
    --timeout)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--timeout needs a number of seconds"
      READY_TIMEOUT="$2"
      shift
      ;;
    --test-lanes)
      [[ "${2:-}" =~ ^[1-9]$ ]] || die "--test-lanes needs a number from 1 to 9"
      TEST_LANES="$2"
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

START_TS="$(now)"
IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1
# The marker lets down.sh find (only) processes this stack started, even without pid files.
STACK_MARKER="BIBLE_STACK_DIR=$STACK_DIR"

# Runs a command as the OS user that owns the Postgres cluster (Postgres refuses to run as root).
as_pg() {
  if ((IS_ROOT)); then
    (cd / && runuser -u "$PG_OS_USER" -- env "$STACK_MARKER" "$@" 9>&-)
  else
    (cd / && env "$STACK_MARKER" "$@" 9>&-)
  fi
}
pg_superuser() { if ((IS_ROOT)); then echo "$PG_OS_USER"; else id -un; fi; }

# -----------------------------------------------------------------------------------------------
# 1. System packages and tools
# -----------------------------------------------------------------------------------------------
ensure_packages() {
  local -a missing=()
  [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || missing+=("postgresql-$PG_MAJOR")
  [[ -x "$PG_BIN/psql" && -x "$PG_BIN/pg_isready" ]] || missing+=("postgresql-client-$PG_MAJOR")
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v ps >/dev/null 2>&1 && command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  # Media tools used by package-builder (audio transcoding).
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v lame >/dev/null 2>&1 || missing+=(lame)
  if ((${#missing[@]})); then
    ((IS_ROOT)) || die "missing system packages: ${missing[*]} (install them, or run this as root)"
    apt_install "${missing[@]}"
  fi
  [[ -x "$PG_BIN/postgres" ]] || die "PostgreSQL $PG_MAJOR binaries not found in $PG_BIN after installing"
  if ((IS_ROOT)) && ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    # Normally created by the postgresql-common package; recreate it if someone removed it.
    log "creating the '$PG_OS_USER' system user"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
      --shell /bin/bash --comment "PostgreSQL administrator" "$PG_OS_USER"
  fi
}

ensure_minio_binary() {
  go_install minio "$MINIO_MODULE@$MINIO_VERSION" "$MINIO_MODULE" "$MINIO_VERSION"
}

# -----------------------------------------------------------------------------------------------
# 2. stack.env and keys (secrets are generated once and never printed)
# -----------------------------------------------------------------------------------------------
rand_b64url() { openssl rand -base64 "$1" | tr -d '\n=' | tr '+/' '-_'; }

env_quote() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:@+-]*$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/}"; fi
}

ensure_env_file() {
  local key value created=0 date_tag
  local priv="$STACK_KEYS/signing-ed25519.pem" pub="$STACK_KEYS/signing-ed25519.pub.pem"
  date_tag="$(date -u +%Y%m%d)"
  mkdir -p "$STACK_KEYS"
  chmod 700 "$STACK_KEYS"
  if [[ ! -f "$STACK_ENV_FILE" ]]; then
    # shellcheck disable=SC2016 # the backticks are literal text
    (umask 077 && printf '# Local stack configuration, generated by scripts/stack/up.sh on %s.\n# Development secrets: never commit or share. Delete with `npm run stack:down -- --purge`.\n' \
      "$(date -u +%FT%TZ)" >"$STACK_ENV_FILE")
    created=1
  fi
  chmod 600 "$STACK_ENV_FILE"

  # Adds KEY=value only when KEY is absent, so existing values (and secrets) are never replaced.
  local -a pairs=(
    "DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGPORT/$DB_NAME"
    "TEST_DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGPORT/$DB_TEST_NAME"
    "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    "S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
    "S3_REGION=us-east-1"
    "S3_ACCESS_KEY_ID=@gen:access"
    "S3_SECRET_ACCESS_KEY=@gen:secret"
    "S3_BUCKET=${S3_BUCKET:-bible-packages}"
    "S3_FORCE_PATH_STYLE=true"
    "JWT_SECRET=@gen:jwt"
    "WEBHOOK_SECRET_KEY=@gen:key32"
    "WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8,::1/128"
    "SIGNING_KEY_ID=dev-$date_tag"
    "SIGNING_PRIVATE_KEY_FILE=$priv"
    "SIGNING_PUBLIC_KEY_FILE=$pub"
    "GATEWAY_PORT=$GATEWAY_PORT"
    "BUILDER_PORT=$BUILDER_PORT"
    "SYNC_PORT=$SYNC_PORT"
    "NOTIFIER_PORT=$NOTIFIER_PORT"
    "PGPORT=$PGPORT"
    "REDIS_PORT=$REDIS_PORT"
    "S3_PORT=$S3_PORT"
    "S3_CONSOLE_PORT=$S3_CONSOLE_PORT"
    # The dev gateway's queue console (only up.sh passes these on, as QUEUE_CONSOLE_*: test
    # gateways started from this file get no console).
    "STACK_QUEUE_CONSOLE_PORT=${STACK_QUEUE_CONSOLE_PORT:-3004}"
    "STACK_QUEUE_CONSOLE_PASSWORD=@gen:secret"
  )
  local added=()
  for pair in "${pairs[@]}"; do
    key="${pair%%=*}"
    value="${pair#*=}"
    grep -q "^$key=" "$STACK_ENV_FILE" && continue
    case "$value" in
      @gen:access) value="dev$(openssl rand -hex 9)" ;;
      @gen:secret) value="$(rand_b64url 30)" ;;
      @gen:jwt) value="$(rand_b64url 48)" ;;
      @gen:key32) value="$(openssl rand -base64 32)" ;;
    esac
    printf '%s=%s\n' "$key" "$(env_quote "$value")" >>"$STACK_ENV_FILE"
    added+=("$key")
  done
  if ((created)); then
    ok "generated $STACK_ENV_FILE (secrets not shown)"
  elif ((${#added[@]})); then
    ok "added ${added[*]} to $STACK_ENV_FILE"
  fi

  priv="$(env_get SIGNING_PRIVATE_KEY_FILE)"
  pub="$(env_get SIGNING_PUBLIC_KEY_FILE)"
  if [[ ! -s "$priv" ]]; then
    mkdir -p "$(dirname "$priv")"
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$priv" 2>/dev/null) || die "openssl could not generate an Ed25519 key"
    chmod 600 "$priv"
    rm -f "$pub"
    ok "generated Ed25519 signing key $priv"
  fi
  if [[ -n "$pub" && ! -s "$pub" ]]; then
    openssl pkey -in "$priv" -pubout -out "$pub" 2>/dev/null || die "openssl could not derive the public key from $priv"
    chmod 644 "$pub"
  fi
}

# -----------------------------------------------------------------------------------------------
# 3. Postgres
# -----------------------------------------------------------------------------------------------
pg_running_pid() {
  local pid
  [[ -s "$PG_DATA/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$PG_DATA/postmaster.pid" | tr -dc '0-9')"
  is_running "$pid" postgres || return 1
  printf '%s' "$pid"
}

start_postgres() {
  local pid name="${PG_NAME:-postgres}"
  mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
  touch "$STACK_LOGS/$name.log"
  if ((IS_ROOT)); then
    chown "$PG_OS_USER:$PG_OS_USER" "$PG_DIR" "$PG_SOCKET_DIR" "$STACK_LOGS/$name.log"
    if [[ -d "$PG_DATA" && "$(stat -c %U "$PG_DATA")" != "$PG_OS_USER" ]]; then
      chown -R "$PG_OS_USER:$PG_OS_USER" "$PG_DATA"
    fi
  fi
  chmod 700 "$PG_DIR"
  as_pg test -w "$PG_DIR" ||
    die "the '$PG_OS_USER' OS user cannot write $PG_DIR: a parent directory is not traversable for it (e.g. /root is 0700). Move the checkout or set STACK_DIR to a path under e.g. /srv."
  local sock="$PG_SOCKET_DIR/.s.PGSQL.$PGPORT"
  ((${#sock} <= 100)) || die "the Postgres socket path $sock is too long for a Unix socket; use a shorter STACK_DIR"

  if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
    if [[ -d "$PG_DATA" && -n "$(ls -A "$PG_DATA" 2>/dev/null)" ]]; then
      die "$PG_DATA exists but is not a Postgres cluster; remove it (npm run stack:down -- --purge)"
    fi
    log "postgres: initdb $PG_DATA"
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$(pg_superuser)" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >>"$STACK_LOGS/$name-initdb.log" 2>&1 ||
      { tail -n 20 "$STACK_LOGS/$name-initdb.log" >&2; die "initdb failed (see $STACK_LOGS/$name-initdb.log)"; }
    echo "include_if_exists = 'stack.conf'  # settings managed by scripts/stack/up.sh" >>"$PG_DATA/postgresql.conf"
  fi
  # Rewritten on every run; takes effect on the next (re)start.
  as_pg tee "$PG_DATA/stack.conf" >/dev/null <<EOF
# Managed by scripts/stack/up.sh; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 128MB
effective_cache_size = 1GB
wal_level = replica
max_wal_size = 1GB
timezone = 'UTC'
log_timezone = 'UTC'
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
EOF

  if pid="$(pg_running_pid)"; then
    ok "$name already running (pid $pid, port $PGPORT)"
  else
    port_open "$PGPORT" && die_port_taken "$name" "$PGPORT" PGPORT
    log "$name: starting on 127.0.0.1:$PGPORT"
    as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$STACK_LOGS/$name.log" -w -t 60 -s ||
      { tail -n 30 "$STACK_LOGS/$name.log" >&2; die "$name did not start (see $STACK_LOGS/$name.log)"; }
    pid="$(pg_running_pid)" || die "$name started but postmaster.pid is missing"
    ok "$name started (pid $pid)"
  fi
  printf '%s\n' "$pid" >"$(pid_file "$name")"
  local i
  for ((i = 0; i < 60; i++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
    sleep 0.5
  done
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" || die "postgres is not accepting connections on port $PGPORT"
  bootstrap_postgres
}

# Role, databases and extensions (idempotent). Extensions are created as superuser so the
# migrations' `CREATE EXTENSION IF NOT EXISTS` succeed for the non-superuser owner role.
bootstrap_postgres() {
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PGPORT" -U "$(pg_superuser)")
  as_pg "${psql[@]}" -d postgres >/dev/null <<SQL || die "could not create the '$DB_USER' role / databases"
SELECT 'CREATE ROLE $DB_USER LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') \gexec
ALTER ROLE $DB_USER WITH LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER $DB_USER ENCODING ''UTF8''', d)
  FROM unnest(ARRAY['$DB_NAME', '$DB_TEST_NAME', '$DB_BENCH_NAME']) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d) \gexec
SQL
  local db ext
  for db in "$DB_NAME" "$DB_TEST_NAME" "$DB_BENCH_NAME"; do
    for ext in "${PG_EXTENSIONS[@]}"; do
      as_pg "${psql[@]}" -d "$db" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS $ext;" >/dev/null ||
        die "could not create extension $ext in database $db"
    done
  done
  ok "postgres ready: role $DB_USER, databases $DB_NAME + $DB_TEST_NAME + $DB_BENCH_NAME, extensions ${PG_EXTENSIONS[*]}"
}

# Integration lanes 2..n (scripts/run-tests.mjs) each get a cluster of their own, not only a
# database: transaction ids are per cluster, so a long transaction in one lane's database (a
# seed, a build's snapshot) would hold back the other lane's event and change feeds, which only
# pass what every older transaction has settled.
start_test_lanes() {
  local n
  for ((n = 1; n < TEST_LANES; n++)); do
    (
      PG_DATA="$PG_DIR/lane$n" PGPORT=$((PGPORT + n)) PG_NAME="postgres-lane$n"
      DB_TEST_NAME="${DB_TEST_NAME}_lane$n"
      start_postgres
    )
    local key="TEST_LANE${n}_DATABASE_URL"
    grep -q "^$key=" "$STACK_ENV_FILE" ||
      printf '%s=%s\n' "$key" "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$((PGPORT + n))/${DB_TEST_NAME}_lane$n" >>"$STACK_ENV_FILE"
  done
}

# -----------------------------------------------------------------------------------------------
# 4. Redis
# -----------------------------------------------------------------------------------------------
redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

start_redis() {
  local pid
  mkdir -p "$REDIS_DIR/data"
  cat >"$REDIS_DIR/redis.conf" <<EOF
# Managed by scripts/stack/up.sh; edits are overwritten.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
supervised no
pidfile "$(pid_file redis)"
logfile "$STACK_LOGS/redis.log"
dir "$REDIS_DIR/data"
# BullMQ: never evict keys, and keep accepted jobs across restarts (AOF, fsync every second).
maxmemory-policy noeviction
appendonly yes
appendfsync everysec
save ""
EOF
  if pid="$(component_pid redis redis-server)"; then
    ok "redis already running (pid $pid, port $REDIS_PORT)"
  else
    port_open "$REDIS_PORT" && die_port_taken redis "$REDIS_PORT" REDIS_PORT
    rm -f "$(pid_file redis)"
    log "redis: starting on 127.0.0.1:$REDIS_PORT"
    (cd "$REDIS_DIR" && env "$STACK_MARKER" redis-server "$REDIS_DIR/redis.conf" 9>&-) >>"$STACK_LOGS/redis.log" 2>&1 ||
      { tail -n 30 "$STACK_LOGS/redis.log" >&2; die "redis did not start (see $STACK_LOGS/redis.log)"; }
  fi
  local i
  for ((i = 0; i < 120; i++)); do
    redis_ping && break
    sleep 0.5
  done
  redis_ping || { tail -n 30 "$STACK_LOGS/redis.log" >&2; die "redis is not answering PING on port $REDIS_PORT"; }
  pid="$(component_pid redis redis-server)" || die "redis answers but its pid file is missing"
  ok "redis ready (pid $pid)"
}

# -----------------------------------------------------------------------------------------------
# 5. MinIO + bucket
# -----------------------------------------------------------------------------------------------
# s3_request <curl args...>: signed (SigV4) request; credentials go through stdin, not argv.
s3_request() {
  local ak sk
  ak="$(env_get S3_ACCESS_KEY_ID)"
  sk="$(env_get S3_SECRET_ACCESS_KEY)"
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --aws-sigv4 "aws:amz:$(env_get S3_REGION):s3" -K - "$@" <<<"user = \"$ak:$sk\""
}

start_minio() {
  local pid rc
  ensure_minio_binary
  mkdir -p "$MINIO_DIR/data"
  if pid="$(component_pid minio "$STACK_BIN/minio")"; then
    ok "minio already running (pid $pid, port $S3_PORT)"
  else
    port_open "$S3_PORT" && die_port_taken minio "$S3_PORT" S3_PORT
    port_open "$S3_CONSOLE_PORT" && die_port_taken "minio console" "$S3_CONSOLE_PORT" S3_CONSOLE_PORT
    log "minio: starting on 127.0.0.1:$S3_PORT (console :$S3_CONSOLE_PORT)"
    (
      cd "$MINIO_DIR"
      export BIBLE_STACK_DIR="$STACK_DIR" MINIO_ROOT_USER MINIO_ROOT_PASSWORD MINIO_UPDATE=off MINIO_BROWSER=on
      MINIO_ROOT_USER="$(env_get S3_ACCESS_KEY_ID)"
      MINIO_ROOT_PASSWORD="$(env_get S3_SECRET_ACCESS_KEY)"
      exec setsid "$STACK_BIN/minio" server "$MINIO_DIR/data" \
        --address "127.0.0.1:$S3_PORT" --console-address "127.0.0.1:$S3_CONSOLE_PORT" \
        >>"$STACK_LOGS/minio.log" 2>&1 </dev/null 9>&-
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$(pid_file minio)"
  fi
  rc=0
  wait_for_http "http://127.0.0.1:$S3_PORT/minio/health/live" 60 "$pid" || rc=$?
  if ((rc)); then
    tail -n 30 "$STACK_LOGS/minio.log" >&2
    ((rc == 2)) && rm -f "$(pid_file minio)"
    die "minio $([[ $rc == 2 ]] && echo exited || echo 'is not live after 60s') (see $STACK_LOGS/minio.log)"
  fi
  ok "minio ready (pid $pid)"
  ensure_bucket
}

ensure_bucket() {
  local url code i
  url="http://127.0.0.1:$S3_PORT/$S3_BUCKET"
  for ((i = 0; i < 20; i++)); do
    code="$(s3_request -I "$url" || true)"
    [[ "$code" == 503 || "$code" == 000 ]] || break # 503: minio still initializing
    sleep 0.5
  done
  case "$code" in
    200) ok "bucket $S3_BUCKET exists" ;;
    404)
      code="$(s3_request -X PUT "$url" || true)"
      [[ "$code" == 200 || "$code" == 409 ]] || die "could not create bucket $S3_BUCKET (HTTP $code)"
      ok "bucket $S3_BUCKET created"
      ;;
    403) die "minio rejected the credentials from $STACK_ENV_FILE (HTTP 403); the data in $MINIO_DIR was created with other credentials: npm run stack:down -- --purge" ;;
    *) die "unexpected HTTP $code checking bucket $S3_BUCKET" ;;
  esac
}

# -----------------------------------------------------------------------------------------------
# 6. Application: build, migrate, seed, services
# -----------------------------------------------------------------------------------------------
# run_npm <name> <npm args...>: runs in the repo root with stack.env exported, tee'd to logs/<name>.log.
run_npm() {
  local name="$1" t
  shift
  t="$(now)"
  log "npm $* (log: $STACK_LOGS/$name.log)"
  if ! (cd "$ROOT_DIR" && load_env && npm "$@") 2>&1 | tee "$STACK_LOGS/$name.log"; then
    die "npm $* failed (see $STACK_LOGS/$name.log)"
  fi
  ok "npm $* done in $(elapsed "$t")"
}

# -----------------------------------------------------------------------------------------------
# Trace backend (--with-tracing): Jaeger v2, in-memory storage, loopback only
# -----------------------------------------------------------------------------------------------
start_jaeger() {
  local pid rc port
  bash "$ROOT_DIR/scripts/stack/install-tools.sh" jaeger 9>&- || die "could not build jaeger"
  if pid="$(component_pid jaeger "$STACK_BIN/jaeger")"; then
    ok "jaeger already running (pid $pid, UI :$JAEGER_UI_PORT)"
  else
    for port in JAEGER_OTLP_PORT JAEGER_UI_PORT JAEGER_GRPC_PORT JAEGER_HEALTH_PORT; do
      port_open "${!port}" && die_port_taken jaeger "${!port}" "$port"
    done
    log "jaeger: starting (OTLP/HTTP 127.0.0.1:$JAEGER_OTLP_PORT, UI :$JAEGER_UI_PORT)"
    (
      export BIBLE_STACK_DIR="$STACK_DIR"
      exec setsid "$STACK_BIN/jaeger" --config "file:$ROOT_DIR/scripts/stack/jaeger.yaml" \
        >>"$STACK_LOGS/jaeger.log" 2>&1 </dev/null 9>&-
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$(pid_file jaeger)"
  fi
  rc=0
  wait_for_http "http://127.0.0.1:$JAEGER_HEALTH_PORT/status" 60 "$pid" || rc=$?
  if ((rc)); then
    tail -n 30 "$STACK_LOGS/jaeger.log" >&2
    ((rc == 2)) && rm -f "$(pid_file jaeger)"
    die "jaeger $([[ $rc == 2 ]] && echo exited || echo 'is not healthy after 60s') (see $STACK_LOGS/jaeger.log)"
  fi
  ok "jaeger ready (pid $pid) http://127.0.0.1:$JAEGER_UI_PORT"
}

service_main() { printf '%s/services/%s/dist/main.js' "$ROOT_DIR" "$1"; }
service_port() { local var="${SERVICE_PORT_VAR[$1]}"; printf '%s' "${!var}"; }

start_service() {
  local svc="$1" port pid
  port="$(service_port "$svc")"
  if pid="$(component_pid "$svc" "$(service_main "$svc")")"; then
    if ((RESTART)) || [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$PROJECT_NODE_BIN/node" ]]; then
      log "$svc: restarting (pid $pid)"
      stop_pid "$svc" "$pid" 15 || die "could not stop $svc (pid $pid)"
      rm -f "$(pid_file "$svc")"
    else
      ok "$svc already running (pid $pid, port $port)"
      return 0
    fi
  fi
  port_open "$port" && die_port_taken "$svc" "$port" "${SERVICE_PORT_VAR[$svc]}"
  log "$svc: starting on :$port"
  printf '\n----- %s  %s starting (scripts/stack/up.sh) -----\n' "$(date -u +%FT%TZ)" "$svc" >>"$STACK_LOGS/$svc.log"
  (
    cd "$ROOT_DIR"
    load_env
    export BIBLE_STACK_DIR="$STACK_DIR" SERVICE_NAME="$svc" PORT="$port"
    if component_pid jaeger "$STACK_BIN/jaeger" >/dev/null; then
      export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$JAEGER_OTLP_PORT"
    fi
    if [[ $svc == api-gateway && -n ${STACK_QUEUE_CONSOLE_PORT:-} ]] && ! port_open "$STACK_QUEUE_CONSOLE_PORT"; then
      export QUEUE_CONSOLE_PORT="$STACK_QUEUE_CONSOLE_PORT" QUEUE_CONSOLE_PASSWORD="$STACK_QUEUE_CONSOLE_PASSWORD"
    fi
    exec setsid node --enable-source-maps "$(service_main "$svc")" >>"$STACK_LOGS/$svc.log" 2>&1 </dev/null 9>&-
  ) &
  printf '%s\n' "$!" >"$(pid_file "$svc")"
}

wait_service_ready() {
  local svc="$1" port pid rc=0
  port="$(service_port "$svc")"
  pid="$(read_pid "$svc")" || die "$svc has no pid file"
  wait_for_http "http://127.0.0.1:$port/health/ready" "$READY_TIMEOUT" "$pid" || rc=$?
  if ((rc)); then
    err "$svc $([[ $rc == 2 ]] && echo 'exited during startup' || echo "was not ready within ${READY_TIMEOUT}s") — last 30 lines of $STACK_LOGS/$svc.log:"
    tail -n 30 "$STACK_LOGS/$svc.log" >&2 || true
    if ((rc == 2)); then rm -f "$(pid_file "$svc")"; else err "$svc is still running (pid $pid); 'npm run stack:down' stops it"; fi
    exit 1
  fi
  ok "$svc ready (pid $pid) http://127.0.0.1:$port"
}

start_app() {
  # Services, migrations and the seed run on the project's pinned Node, with native modules
  # built for it (a service found running on another node is restarted).
  log "node $(node --version) ($(command -v node))"
  (cd "$ROOT_DIR" && ensure_node_modules 9>&-) || die "npm install failed"
  local svc need_build=0
  for svc in "${SERVICES[@]}"; do
    [[ -f "$(service_main "$svc")" ]] || need_build=1
  done
  case "$BUILD" in
    always) run_npm build run build ;;
    auto) if ((need_build)); then run_npm build run build; fi ;;
    never) ((need_build == 0)) || die "services are not built (missing dist/main.js) and --no-build was given" ;;
  esac
  for svc in "${SERVICES[@]}"; do
    [[ -f "$(service_main "$svc")" ]] || die "$(service_main "$svc") does not exist after the build"
  done
  ((MIGRATE)) && run_npm migrate run migrate
  ((SEED)) && run_npm seed run seed
  for svc in "${SERVICES[@]}"; do start_service "$svc"; done
  for svc in "${SERVICES[@]}"; do wait_service_ready "$svc"; done
}

# -----------------------------------------------------------------------------------------------
# Summary
# -----------------------------------------------------------------------------------------------
print_summary() {
  row() { printf '  %-24s %s\n' "$@"; }
  echo
  echo "Local stack is up ($(elapsed "$START_TS")):"
  if ((DEPS_ONLY == 0)); then
    row "API gateway" "http://127.0.0.1:$GATEWAY_PORT"
    row "OpenAPI" "http://127.0.0.1:$GATEWAY_PORT/v1/openapi.json"
    row "Queue console" "http://127.0.0.1:$(env_get STACK_QUEUE_CONSOLE_PORT)  (login admin / STACK_QUEUE_CONSOLE_PASSWORD in stack.env; read-only)"
    local svc
    for svc in "${SERVICES[@]}"; do
      row "metrics $svc" "http://127.0.0.1:$(service_port "$svc")/metrics"
    done
  fi
  row "Postgres" "postgres://$DB_USER@127.0.0.1:$PGPORT/$DB_NAME (+ $DB_TEST_NAME)"
  row "Redis" "redis://127.0.0.1:$REDIS_PORT"
  row "S3 (MinIO)" "http://127.0.0.1:$S3_PORT  bucket $S3_BUCKET"
  row "MinIO console" "http://127.0.0.1:$S3_CONSOLE_PORT  (login = S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY)"
  if component_pid jaeger "$STACK_BIN/jaeger" >/dev/null; then
    row "Jaeger UI (traces)" "http://127.0.0.1:$JAEGER_UI_PORT"
  fi
  row "env file" "$STACK_ENV_FILE  (load: set -a; . $STACK_ENV_FILE; set +a)"
  row "logs" "$STACK_LOGS/"
  row "status / stop" "npm run stack:status / npm run stack:down"
}

# -----------------------------------------------------------------------------------------------
main() {
  acquire_lock
  # Everything this script runs with node (key generation, migrations, seed, services) runs on the
  # project's pinned Node.
  use_project_node 9>&- || die "could not install Node $PROJECT_NODE_VERSION into $PROJECT_NODE_DIR"
  ensure_packages
  resolve_ports
  ensure_env_file
  ensure_push_fakes
  resolve_ports 2>/dev/null # re-read (and export) from the file, which is now authoritative
  start_postgres
  start_test_lanes
  start_redis
  start_minio
  ((TRACING)) && start_jaeger
  ((DEPS_ONLY)) || start_app
  print_summary
}

main
