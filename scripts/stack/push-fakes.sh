# shellcheck shell=bash
# Device push against local fakes (docs/notifications.md): credentials for a test FCM service
# account, an APNs .p8 key, a self-signed certificate for the fake APNs and Web Push servers and a
# VAPID key pair, generated once under $STACK_KEYS/push, and the notifier/gateway settings that
# point at the fakes (FCM :PUSH_FAKES_PORT, APNs +1, Web Push +2), added to stack.env when absent.
# The fakes themselves run inside `npm run demo` (scripts/src/demo-push.ts) and the tests.
# PUSH_FAKES=0 skips it all (the notifier then sends no device push).

ensure_push_fakes() {
  [[ "${PUSH_FAKES:-1}" == 0 ]] && return 0
  local dir="$STACK_KEYS/push" port="${PUSH_FAKES_PORT:-3010}"
  [[ -n "$(env_get PUSH_FAKES_PORT)" ]] && port="$(env_get PUSH_FAKES_PORT)"
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ! -s "$dir/tls-cert.pem" ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$dir/tls-key.pem" -out "$dir/tls-cert.pem" -days 3650 -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null || die "openssl could not make the push fakes' certificate"
  fi
  if [[ ! -s "$dir/apns-key.p8" ]]; then
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/apns-key.p8" 2>/dev/null) ||
      die "openssl could not make the APNs key"
  fi
  if [[ ! -s "$dir/fcm-service-account.json" ]]; then
    (umask 077 && PORT="$port" node -e '
      const { generateKeyPairSync, randomBytes } = require("node:crypto");
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      process.stdout.write(JSON.stringify({
        type: "service_account", project_id: "bible-local",
        private_key_id: randomBytes(20).toString("hex"),
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
        client_email: "notifier@bible-local.iam.gserviceaccount.com",
        token_uri: `http://127.0.0.1:${process.env.PORT}/token`,
      }));' >"$dir/fcm-service-account.json") || die "could not make the FCM service account key"
  fi
  local vapid_public vapid_private
  vapid_public="$(env_get VAPID_PUBLIC_KEY)"
  if [[ -z "$vapid_public" ]]; then
    read -r vapid_public vapid_private < <(node -e '
      const e = require("node:crypto").createECDH("prime256v1"); e.generateKeys();
      console.log(e.getPublicKey().toString("base64url"), e.getPrivateKey().toString("base64url"));')
  fi
  local added=() pair key
  for pair in \
    "PUSH_FAKES_PORT=$port" \
    "FCM_SERVICE_ACCOUNT_FILE=$dir/fcm-service-account.json" \
    "FCM_ENDPOINT=http://127.0.0.1:$port" \
    "FCM_TOKEN_URI=http://127.0.0.1:$port/token" \
    "APNS_KEY_FILE=$dir/apns-key.p8" \
    "APNS_KEY_ID=LOCALKEY01" \
    "APNS_TEAM_ID=LOCALTEAM1" \
    "APNS_TOPIC=org.bible.local" \
    "APNS_HOST=https://localhost:$((port + 1))" \
    "APNS_CA_FILE=$dir/tls-cert.pem" \
    "WEBPUSH_CA_FILE=$dir/tls-cert.pem" \
    "PUSH_FAKES_TLS_KEY_FILE=$dir/tls-key.pem" \
    "VAPID_PUBLIC_KEY=$vapid_public" \
    "VAPID_PRIVATE_KEY=${vapid_private:-}" \
    "VAPID_SUBJECT=mailto:dev@localhost.localdomain"; do
    key="${pair%%=*}"
    grep -q "^$key=" "$STACK_ENV_FILE" && continue
    [[ "$key" == VAPID_PRIVATE_KEY && -z "${vapid_private:-}" ]] && continue
    printf '%s=%s\n' "$key" "$(env_quote "${pair#*=}")" >>"$STACK_ENV_FILE"
    added+=("$key")
  done
  ((${#added[@]} == 0)) || ok "device push points at the local fakes (added ${added[*]} to $STACK_ENV_FILE)"
}
