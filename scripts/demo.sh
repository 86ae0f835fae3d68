#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the local stack (Postgres, Redis, MinIO, migrate,
# seed the WEB Bible, the four services), then build, download and verify a text and an audio
# package through the public API.
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT_DIR"

# Everything runs on the project's pinned Node (installed into .stack/node on first use).
# shellcheck source=scripts/runtime.sh
. scripts/runtime.sh
use_project_node
echo "Node $(node --version) ($(command -v node))"
ensure_node_modules
echo "Building ..."
npm run build --silent
bash scripts/stack/up.sh
node scripts/dist/demo.js
