#!/usr/bin/env bash
# Installs Debian's `prometheus` (the real server the dashboards-and-alerts e2e test scrapes the
# services with) when missing. Idempotent; uses the stack's apt helper (waits for the dpkg lock,
# logs to .stack/logs/apt.log). The package's own daemon is not used: the test runs its own
# `prometheus` process with its own configuration on a free port.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_apt_command prometheus
