#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser for the API reference test) when missing.
# Idempotent; uses the stack's apt helper (waits for the dpkg lock, logs to .stack/logs/apt.log).
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_stack_dirs
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi
command -v chromium >/dev/null 2>&1 || die "chromium is not on PATH after installing it"
ok "chromium: $(chromium --version 2>/dev/null | head -1)"
