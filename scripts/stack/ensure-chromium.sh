#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser for the API reference test) when missing.
# Idempotent; uses the stack's apt helper (waits for the dpkg lock, logs to .stack/logs/apt.log).
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_apt_command chromium
