# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source this file
# Shared helpers for the local stack scripts (up.sh, down.sh, status.sh, install-tools.sh).
# Source it; do not execute it. Everything lives under "$STACK_DIR" (default <repo>/.stack, git-ignored).

set -euo pipefail

# ---------------------------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------------------------
STACK_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT_DIR="$(cd "$STACK_SCRIPTS_DIR/../.." && pwd -P)"
STACK_DIR="${STACK_DIR:-$ROOT_DIR/.stack}"
STACK_BIN="$STACK_DIR/bin"
STACK_RUN="$STACK_DIR/run"
STACK_LOGS="$STACK_DIR/logs"
STACK_KEYS="$STACK_DIR/keys"
STACK_ENV_FILE="$STACK_DIR/stack.env"
PG_DIR="$STACK_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_SOCKET_DIR="$PG_DIR/run"
REDIS_DIR="$STACK_DIR/redis"
MINIO_DIR="$STACK_DIR/minio"

# ---------------------------------------------------------------------------------------------
# Pinned tools and fixed local-dev settings
# ---------------------------------------------------------------------------------------------
PG_MAJOR=15
PG_BIN="${PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}"
PG_OS_USER="${STACK_PG_USER:-postgres}" # OS user owning the cluster (created if missing)
DB_USER=bible
DB_PASSWORD=bible # local development only
DB_NAME=bible
DB_TEST_NAME=bible_test
DB_BENCH_NAME=bible_bench # benchmarks reset and seed their own database
PG_EXTENSIONS=(pg_trgm pgcrypto)
# Jaeger (stack:up --with-tracing; scripts/stack/jaeger.yaml reads these).
export JAEGER_OTLP_PORT="${JAEGER_OTLP_PORT:-4318}" JAEGER_UI_PORT="${JAEGER_UI_PORT:-16686}"
export JAEGER_GRPC_PORT="${JAEGER_GRPC_PORT:-16685}" JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13133}"

MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

# Services, in start order: name -> env var holding its port (value defaults are in stack.env).
SERVICES=(api-gateway package-builder sync-service notifier)
declare -A SERVICE_PORT_VAR=(
  [api-gateway]=GATEWAY_PORT
  [package-builder]=BUILDER_PORT
  [sync-service]=SYNC_PORT
  [notifier]=NOTIFIER_PORT
)

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  _C_DIM=$'\033[2m' _C_RED=$'\033[31m' _C_YEL=$'\033[33m' _C_GRN=$'\033[32m' _C_OFF=$'\033[0m'
else
  _C_DIM='' _C_RED='' _C_YEL='' _C_GRN='' _C_OFF=''
fi
# Prints the leading comment block of a script (its usage text), without shellcheck directives.
print_header() {
  awk 'NR == 1 { next } /^#/ { if ($0 !~ /^# *shellcheck/) { sub(/^# ?/, ""); print }; next } { exit }' "$1"
}

_ts() { date '+%H:%M:%S'; }
log() { printf '%s[%s]%s %s\n' "$_C_DIM" "$(_ts)" "$_C_OFF" "$*"; }
ok() { printf '%s[%s]%s %s✔%s %s\n' "$_C_DIM" "$(_ts)" "$_C_OFF" "$_C_GRN" "$_C_OFF" "$*"; }
warn() { printf '%s[%s]%s %swarning:%s %s\n' "$_C_DIM" "$(_ts)" "$_C_OFF" "$_C_YEL" "$_C_OFF" "$*" >&2; }
err() { printf '%s[%s]%s %serror:%s %s\n' "$_C_DIM" "$(_ts)" "$_C_OFF" "$_C_RED" "$_C_OFF" "$*" >&2; }
die() {
  err "$*"
  exit 1
}

# Seconds since the epoch with sub-second precision, for timings.
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

require_root_or_die() {
  [[ "$(id -u)" == 0 ]] || die "this script manages system packages and a postgres-owned cluster; run it as root"
}

ensure_stack_dirs() {
  mkdir -p "$STACK_DIR" "$STACK_BIN" "$STACK_RUN" "$STACK_LOGS"
}

# Serialize concurrent up/down runs (e.g. parallel test jobs calling `up.sh --deps-only`).
acquire_lock() {
  ensure_stack_dirs
  # fd 9 must not leak into the daemons we start (they would hold the lock forever): every
  # launch closes it with 9>&-.
  exec 9>"$STACK_RUN/.lock"
  if ! flock -n 9; then
    log "another stack script is running; waiting for it (up to 15 min)..."
    flock -w 900 9 || die "timed out waiting for the stack lock ($STACK_RUN/.lock)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Environment file
# ---------------------------------------------------------------------------------------------
# Exports every KEY=value of stack.env into the current shell.
load_env() {
  [[ -f "$STACK_ENV_FILE" ]] || die "$STACK_ENV_FILE does not exist; run 'npm run stack:up' first"
  set -a
  # shellcheck disable=SC1090
  . "$STACK_ENV_FILE"
  set +a
}

# Reads one key from stack.env without sourcing it (prints nothing if absent).
env_get() {
  [[ -f "$STACK_ENV_FILE" ]] || return 0
  sed -n "s/^$1=//p" "$STACK_ENV_FILE" | tail -n 1 | sed -e "s/^'\(.*\)'\$/\1/"
}

# Ports, with precedence: stack.env (once generated it is the source of truth, because the URLs
# in it embed the ports) > caller's environment > defaults.
resolve_ports() {
  local key def caller file
  for key in PGPORT:55432 REDIS_PORT:56379 S3_PORT:59000 S3_CONSOLE_PORT:59001 \
    GATEWAY_PORT:3000 BUILDER_PORT:3001 SYNC_PORT:3002 NOTIFIER_PORT:3003; do
    def="${key#*:}"
    key="${key%%:*}"
    caller="${!key:-}"
    file="$(env_get "$key")"
    if [[ -n "$file" ]]; then
      if [[ -n "$caller" && "$caller" != "$file" ]]; then
        warn "$key=$caller from your environment is ignored: $STACK_ENV_FILE says $key=$file (edit it or purge the stack to change ports)"
      fi
      printf -v "$key" '%s' "$file"
    else
      printf -v "$key" '%s' "${caller:-$def}"
    fi
    # shellcheck disable=SC2163
    export "$key"
  done
  file="$(env_get S3_BUCKET)"
  S3_BUCKET="${file:-${S3_BUCKET:-bible-packages}}"
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
pid_file() { printf '%s/%s.pid' "$STACK_RUN" "$1"; }

read_pid() {
  local f
  f="$(pid_file "$1")"
  [[ -s "$f" ]] || return 1
  local pid
  pid="$(head -n 1 "$f" | tr -dc '0-9')"
  [[ -n "$pid" ]] || return 1
  printf '%s' "$pid"
}

# is_running <pid> [cmdline-substring]: process alive (and, if given, its command line contains
# the substring; guards against a recycled pid belonging to something we did not start).
is_running() {
  local pid="$1" want="${2:-}"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n "$want" ]]; then
    local cmd
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *"$want"* ]] || return 1
  fi
  # A zombie is not running.
  [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" != Z ]]
}

# Prints the pid of component <name> if it is running (as recorded in .stack/run/<name>.pid).
component_pid() {
  local name="$1" want="$2" pid
  pid="$(read_pid "$name")" || return 1
  is_running "$pid" "$want" || return 1
  printf '%s' "$pid"
}

# stop_pid <label> <pid> [timeout-seconds]: SIGTERM, wait, then SIGKILL (whole process group if
# the process leads one, so children such as ffmpeg go too).
stop_pid() {
  local label="$1" pid="$2" timeout="${3:-15}" target="$2" i
  if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
    target="-$pid"
  fi
  kill -TERM -- "$target" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    is_running "$pid" || break
    sleep 0.1
  done
  if is_running "$pid"; then
    warn "$label (pid $pid) did not exit within ${timeout}s; sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      is_running "$pid" || break
      sleep 0.1
    done
  fi
  # Leftover members of the group (the leader is gone): stop them too.
  if [[ "$target" == -* ]] && pgrep -g "$pid" >/dev/null 2>&1; then
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  ! is_running "$pid"
}

# ---------------------------------------------------------------------------------------------
# Network checks
# ---------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for_port <port> <timeout-seconds> [pid]: fails early if pid dies.
wait_for_port() {
  local port="$1" timeout="$2" pid="${3:-}" deadline
  deadline=$((SECONDS + timeout))
  until port_open "$port"; do
    [[ -z "$pid" ]] || is_running "$pid" || return 2
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-3}" "$1" 2>/dev/null || true
}

# wait_for_http <url> <timeout-seconds> [pid] [expected-code]: fails early (2) if pid dies.
wait_for_http() {
  local url="$1" timeout="$2" pid="${3:-}" want="${4:-200}" deadline
  deadline=$((SECONDS + timeout))
  until [[ "$(http_code "$url")" == "$want" ]]; do
    [[ -z "$pid" ]] || is_running "$pid" || return 2
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Describes who is listening on a TCP port (best effort, for error messages).
port_owner() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -n 1
  fi
}

die_port_taken() {
  local what="$1" port="$2" owner
  owner="$(port_owner "$port")"
  die "$what cannot start: port $port is already in use${owner:+ by $owner} (not by a process this stack started). Stop it, or choose another port (e.g. ${3:-PORT}=...) before the first 'stack:up' / after 'stack:down --purge'."
}

# ---------------------------------------------------------------------------------------------
# System packages (Debian)
# ---------------------------------------------------------------------------------------------
_APT_UPDATED=0
apt_install() {
  (($# > 0)) || return 0
  require_root_or_die
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages yourself: $*"
  if ((_APT_UPDATED == 0)); then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >"$STACK_LOGS/apt.log" 2>&1 ||
      { tail -n 20 "$STACK_LOGS/apt.log" >&2; die "apt-get update failed (see $STACK_LOGS/apt.log)"; }
    _APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@" >>"$STACK_LOGS/apt.log" 2>&1 ||
    { tail -n 30 "$STACK_LOGS/apt.log" >&2; die "apt-get install $* failed (see $STACK_LOGS/apt.log)"; }
}

# ensure_apt_command <command> [package]: installs the Debian package (default: the command's
# name) unless the command is on PATH already, then prints its version.
ensure_apt_command() {
  local cmd=$1 pkg=${2:-$1}
  ensure_stack_dirs
  command -v "$cmd" >/dev/null 2>&1 || apt_install "$pkg"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is not on PATH after installing $pkg"
  ok "$cmd: $("$cmd" --version 2>/dev/null | head -1)"
}

# ---------------------------------------------------------------------------------------------
# Go tools
# ---------------------------------------------------------------------------------------------
require_go() {
  command -v go >/dev/null 2>&1 || die "Go is required to build $1 (Go >= 1.24; Debian's golang-go is too old). Install it from https://go.dev/dl/ and re-run."
}

# go_install <binary-name> <package@version> <module> <version> [ldflags]
# Installs into $STACK_BIN unless a binary built from exactly that module version (and ldflags) is
# already there. Uses the regular GOPATH module cache and build cache (go env GOMODCACHE / GOCACHE),
# which live outside .stack, so a rebuild after `down --purge` or in a fresh checkout is fast.
go_install() {
  local bin="$1" pkg="$2" module="$3" version="$4" ldflags="${5:-}" start
  if go_binary_matches "$STACK_BIN/$bin" "$module" "$version" "$ldflags"; then
    return 0
  fi
  require_go "$bin"
  mkdir -p "$STACK_BIN" "$STACK_LOGS"
  log "building $bin ($pkg) into $STACK_BIN; the first build on a machine takes minutes, later ones seconds (log: $STACK_LOGS/go-install-$bin.log)"
  log "module cache: $(go env GOMODCACHE), build cache: $(go env GOCACHE)"
  start="$(now)"
  local -a flags=()
  [[ -z "$ldflags" ]] || flags+=(-ldflags "$ldflags")
  # Run outside the repository so no go.work/go.mod interferes; close the stack lock fd.
  if ! (cd "$STACK_DIR" && GOBIN="$STACK_BIN" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "${flags[@]}" "$pkg" 9>&-) \
    >"$STACK_LOGS/go-install-$bin.log" 2>&1; then
    tail -n 30 "$STACK_LOGS/go-install-$bin.log" >&2
    die "go install $pkg failed (see $STACK_LOGS/go-install-$bin.log)"
  fi
  go_binary_matches "$STACK_BIN/$bin" "$module" "$version" "$ldflags" || die "$STACK_BIN/$bin was built but does not report $module $version"
  ok "built $bin in $(elapsed "$start")"
}

# go_build_wrapped <binary-name> <package> <module> <version>
# For modules whose go.mod has replace directives (`go install pkg@version` refuses them): builds
# <package> from a throw-away wrapper module in $STACK_DIR/build/<binary-name> (go mod init, go get,
# go build), unless $STACK_BIN/<binary-name> was already built from <module> <version>.
go_build_wrapped() {
  local bin="$1" pkg="$2" module="$3" version="$4" dir="$STACK_DIR/build/$1" start
  if [[ -x "$STACK_BIN/$bin" ]] && go version -m "$STACK_BIN/$bin" 2>/dev/null |
    awk -v m="$module" -v v="$version" '($1 == "mod" || $1 == "dep") && $2 == m && $3 == v { f = 1 } END { exit !f }'; then
    return 0
  fi
  require_go "$bin"
  mkdir -p "$STACK_BIN" "$STACK_LOGS"
  log "building $bin ($pkg@$version) into $STACK_BIN; the first build on a machine takes many minutes (log: $STACK_LOGS/go-build-$bin.log)"
  start="$(now)"
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! (cd "$dir" && export GOFLAGS=-mod=mod GOWORK=off &&
    go mod init "$bin-build" && go get "$pkg@$version" &&
    go build -trimpath -o "$STACK_BIN/$bin.tmp" "$pkg" && mv "$STACK_BIN/$bin.tmp" "$STACK_BIN/$bin" 9>&-) \
    >"$STACK_LOGS/go-build-$bin.log" 2>&1; then
    tail -n 30 "$STACK_LOGS/go-build-$bin.log" >&2
    die "building $pkg@$version failed (see $STACK_LOGS/go-build-$bin.log)"
  fi
  ok "built $bin in $(elapsed "$start")"
}

# True if <file> is a Go binary whose main module is <module> at <version> (built with [ldflags]).
go_binary_matches() {
  local file="$1" module="$2" version="$3" ldflags="${4:-}" info
  [[ -x "$file" ]] || return 1
  # Without a Go toolchain we cannot inspect it; trust an existing executable.
  command -v go >/dev/null 2>&1 || return 0
  info="$(go version -m "$file" 2>/dev/null)" || return 1
  awk -v m="$module" -v v="$version" '$1 == "mod" && $2 == m && $3 == v { found = 1 } END { exit !found }' <<<"$info" || return 1
  [[ -z "$ldflags" ]] || grep -E $'^\tbuild\t-ldflags=' <<<"$info" | grep -qF -- "$ldflags"
}
