#!/usr/bin/env bash
# CI step: Schemathesis (from PyPI, pinned, in a venv under .stack/) over every operation of the
# gateway's OpenAPI document, with an admin token, against a gateway started on the test stack
# with a freshly seeded database of its own. Ends with `schemathesis: N passed, N failed`:
# an operation passes without a failed check and without a "schema validation mismatch" warning.
# SCHEMATHESIS_ARGS adds options to `st run` (e.g. `--include-path /v1/sync/push --report
# junit,har` to read one operation's exchanges).
set -uo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT_DIR"
VERSION=4.32.5
VENV="$ROOT_DIR/.stack/schemathesis-$VERSION"
OUT="$ROOT_DIR/.stack/test-logs/schemathesis"
mkdir -p "$OUT"

fail() { echo "schemathesis: $1" >&2; echo "schemathesis: 0 passed, 1 failed"; exit 1; }

if [[ ! -x "$VENV/bin/st" ]]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "schemathesis==$VERSION" ||
    fail "could not install schemathesis $VERSION from PyPI"
fi

set -a
# shellcheck disable=SC1091
. .stack/stack.env
set +a
# The stack's Postgres, or the cluster SCHEMATHESIS_SERVER_URL names (npm test runs this beside
# the integration lanes, on a cluster of its own), and a bucket of its own.
SERVER_URL="${SCHEMATHESIS_SERVER_URL:-$TEST_DATABASE_URL}"
DB_URL="${SERVER_URL%/*}/bible_schemathesis"
export S3_BUCKET="$S3_BUCKET-schemathesis"
# A database of its own (the role may create databases), reset and seeded like the e2e suites'.
SERVER_URL="$SERVER_URL" node -e '
const { Client } = require("pg");
(async () => {
  const admin = new Client({ connectionString: process.env.SERVER_URL });
  await admin.connect();
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", ["bible_schemathesis"]);
  if (exists.rowCount === 0) await admin.query("CREATE DATABASE bible_schemathesis");
  await admin.end();
  await require("./libs/common/dist/database/testing").resetTestDatabase(process.argv[1]);
  await require("./scripts/dist/seed/run-seed").runSeed({
    databaseUrl: process.argv[1], migrate: true, log: () => undefined,
    s3: { S3_ENDPOINT: process.env.S3_ENDPOINT, S3_REGION: process.env.S3_REGION,
          S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
          S3_BUCKET: process.env.S3_BUCKET, S3_FORCE_PATH_STYLE: true },
  });
})().catch((e) => { console.error(e); process.exit(1); });
' "$DB_URL" || fail "could not prepare the database"

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export DATABASE_URL="$DB_URL" GATEWAY_PORT="$PORT" QUEUE_PREFIX=t-schemathesis LOG_LEVEL=warn \
  RATE_LIMIT_DEFAULT_PER_IP_HOUR=100000000 RATE_LIMIT_BUILDS_PER_USER_HOUR=100000000 \
  RATE_LIMIT_BUILDS_PER_IP_HOUR=100000000 RATE_LIMIT_DOWNLOADS_PER_USER_HOUR=100000000 \
  RATE_LIMIT_DOWNLOADS_PER_IP_HOUR=100000000 RATE_LIMIT_SYNC_PER_USER_HOUR=100000000 \
  SSE_MAX_STREAM_SECONDS=1
# (No builder runs here: a build's status stream would stay open until Schemathesis' request
# timeout, 15 requests of 10 s; the gateway ends it after a second instead, as a client expects.)
node services/api-gateway/dist/main.js >"$OUT/gateway.log" 2>&1 &
GATEWAY_PID=$!
trap 'kill "$GATEWAY_PID" 2>/dev/null' EXIT
for _ in $(seq 1 60); do
  curl -sf -m 2 "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  sleep 1
done
curl -sf -m 2 "http://127.0.0.1:$PORT/health/ready" >/dev/null || fail "the gateway did not become ready"
TOKEN=$(node scripts/dist/token.js --sub schemathesis --role admin | tail -1)

# A real cursor of each paged catalog list (cursors are bound to their query).
next_cursor() {
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).nextCursor ?? ""))'
}
export ST_TEXT_BOOKS_CURSOR ST_TEXT_CHAPTERS_CURSOR ST_SEARCH_CURSOR ST_AUDIO_BOOKS_CURSOR ST_AUDIO_CHAPTERS_CURSOR
ST_TEXT_BOOKS_CURSOR=$(next_cursor "/v1/text-versions/web/books?limit=1")
ST_TEXT_CHAPTERS_CURSOR=$(next_cursor "/v1/text-versions/web/books/john/chapters?limit=1")
ST_SEARCH_CURSOR=$(next_cursor "/v1/text-versions/web/search?q=love&book=John&limit=1")
ST_AUDIO_CHAPTERS_CURSOR=$(next_cursor "/v1/audio-versions/web-audio-john/books/john/chapters?limit=1")
# The seeded audio version has one book, so no page has a next cursor: this is the one the gateway
# issues after a first book (Genesis) for that list's filters.
ST_AUDIO_BOOKS_CURSOR=$(node -e '
const c = require("./services/api-gateway/dist/content/page-cursor");
const filters = { kind: "audio", id: "web-audio-john", includeUnpublished: false };
console.log(c.encodeCursor({ k: [1], f: c.queryFingerprint(filters) }));')
[[ -n $ST_TEXT_BOOKS_CURSOR && -n $ST_TEXT_CHAPTERS_CURSOR && -n $ST_SEARCH_CURSOR && -n $ST_AUDIO_BOOKS_CURSOR && -n $ST_AUDIO_CHAPTERS_CURSOR ]] ||
  fail "could not read the catalog cursors"

# A receiver to change: PATCH /v1/admin/webhooks/{id} is pinned to it in the toml.
export ST_WEBHOOK_ID
ST_WEBHOOK_ID=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"url":"https://93.184.215.14/hooks/bible","eventTypes":["package.ready"]}' \
  "http://127.0.0.1:$PORT/v1/admin/webhooks" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).id ?? ""))')
[[ -n $ST_WEBHOOK_ID ]] || fail "could not create the webhook the run changes"

# A sync session of the token's user: POST /v1/sync/push is pinned to it in the toml.
export ST_SYNC_SESSION_ID
ST_SYNC_SESSION_ID=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"deviceId":"schemathesis"}' "http://127.0.0.1:$PORT/v1/sync/sessions" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).sessionId ?? ""))')
[[ -n $ST_SYNC_SESSION_ID ]] || fail "could not start the sync session the run pushes to"

rm -rf "$OUT/report"
# One worker: with two, Hypothesis' lambda descriptions race ("AST constructor recursion depth
# mismatch") and a random operation ends in a runtime error that says nothing about the API.
# From the log folder: schemathesis keeps a crash cache (.schemathesis/) in its working directory.
(cd "$OUT" && "$VENV/bin/st" --config-file "$ROOT_DIR/scripts/schemathesis/schemathesis.toml" run \
  "http://127.0.0.1:$PORT/v1/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-10}" --workers 1 --seed 1 --no-color \
  --generation-database none \
  --report junit --report-dir "$OUT/report" ${SCHEMATHESIS_ARGS:-}) | tee "$OUT/run.log"

python3 - "$OUT" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
files = glob.glob(f"{out}/report/junit-*.xml")
if not files:
    print("schemathesis: 0 passed, 1 failed"); sys.exit(1)
cases = ET.parse(files[0]).getroot().iter("testcase")
ops = {}
for c in cases:
    bad = any(child.tag in ("failure", "error") for child in c)
    ops[c.get("name")] = ops.get(c.get("name"), False) or bad
# A "Schema validation mismatch" warning (most generated valid inputs were answered 4xx) means the
# document promises what the API refuses: the operation fails like a failed check.
listing = False
warned = []
for line in open(f"{out}/run.log").read().splitlines():
    if line.startswith("Schema validation mismatch:"):
        listing = True
    elif listing and line.startswith("  - "):
        warned.append(line[4:].strip())
    elif listing and line.strip() and not line.startswith(" "):
        listing = False
if warned:
    print(f"schemathesis: schema validation mismatch on {len(warned)} operation(s): {', '.join(warned)}")
for label in warned:
    ops[label] = True
failed = sum(ops.values())
print(f"schemathesis: {len(ops) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
