#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the local stack (Postgres, Redis, MinIO, migrate,
# seed the WEB Bible, the four services), then build, download and verify a text and an audio
# package through the public API.
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT_DIR"

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing dependencies (npm install) ..."
  npm install --no-audit --no-fund
fi
echo "Building ..."
npm run build --silent
bash scripts/stack/up.sh
node scripts/dist/demo.js
