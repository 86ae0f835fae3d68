{{/*
Names and labels.
*/}}
{{- define "bible.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bible.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of a per-component resource: <fullname>-<component>, at most 63 characters. */}}
{{- define "bible.componentName" -}}
{{- printf "%s-%s" (include "bible.fullname" .root | trunc (int (sub 62 (len .component)))) .component | trimSuffix "-" }}
{{- end }}

{{- define "bible.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bible.labels" -}}
helm.sh/chart: {{ include "bible.chart" . }}
app.kubernetes.io/name: {{ include "bible.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bible-packages
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "bible.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bible.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of a component's resources. Args: dict root component */}}
{{- define "bible.componentLabels" -}}
{{ include "bible.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of a component. Args: dict root component */}}
{{- define "bible.componentSelectorLabels" -}}
{{ include "bible.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The four services: name -> values key, port variable and the dependencies whose secrets it gets.
Iterated with `range` (sorted by name, so the output order is stable).
*/}}
{{- define "bible.components" -}}
api-gateway:
  key: apiGateway
  portEnv: GATEWAY_PORT
  database: true
  redis: true
  s3: true
  jwt: true
  signing: false
  webhooks: true
package-builder:
  key: packageBuilder
  portEnv: BUILDER_PORT
  database: true
  redis: true
  s3: true
  jwt: false
  signing: true
  webhooks: false
sync-service:
  key: syncService
  portEnv: SYNC_PORT
  database: true
  redis: true
  s3: false
  jwt: false
  signing: false
  webhooks: false
notifier:
  key: notifier
  portEnv: NOTIFIER_PORT
  database: true
  redis: true
  s3: false
  jwt: false
  signing: false
  webhooks: true
{{- end }}

{{- define "bible.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bible.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference. Args: dict root component image (the component's image values).
<registry>/<repository>/<component>:<tag>, or @<digest> when a digest is given.
*/}}
{{- define "bible.image" -}}
{{- $root := .root }}
{{- $img := .image | default dict }}
{{- $repo := $img.repository }}
{{- if not $repo }}
{{- $repo = printf "%s/%s" $root.Values.image.repository .component }}
{{- if $root.Values.image.registry }}
{{- $repo = printf "%s/%s" $root.Values.image.registry $repo }}
{{- end }}
{{- end }}
{{- if $img.digest }}
{{- printf "%s@%s" $repo $img.digest }}
{{- else }}
{{- printf "%s:%s" $repo (toString ($img.tag | default $root.Values.image.tag | default $root.Chart.AppVersion)) }}
{{- end }}
{{- end }}

{{/* Secrets */}}
{{- define "bible.secretName" -}}
{{- default (include "bible.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "bible.signingSecretName" -}}
{{- default (printf "%s-signing-key" (include "bible.fullname" .)) .Values.signingKey.existingSecret }}
{{- end }}

{{/* True ("true") when the builder gets a signing key mounted. */}}
{{- define "bible.signingEnabled" -}}
{{- if or .Values.signingKey.existingSecret .Values.signingKey.privateKeyPem }}true{{ end }}
{{- end }}

{{/* One secretKeyRef env entry. Args: dict name secret key optional */}}
{{- define "bible.secretEnvVar" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/* Secret-backed env of a component. Args: dict root c (component entry) */}}
{{- define "bible.secretEnv" -}}
{{- $root := .root }}
{{- $c := .c }}
{{- $secret := include "bible.secretName" $root }}
{{- $keys := $root.Values.secrets.keys }}
{{- if $c.database }}
{{ include "bible.secretEnvVar" (dict "name" "DATABASE_URL" "secret" $secret "key" $keys.databaseUrl) }}
{{- end }}
{{- if $c.redis }}
{{ include "bible.secretEnvVar" (dict "name" "REDIS_URL" "secret" $secret "key" $keys.redisUrl) }}
{{- end }}
{{- if $c.s3 }}
{{ include "bible.secretEnvVar" (dict "name" "S3_ACCESS_KEY_ID" "secret" $secret "key" $keys.s3AccessKeyId) }}
{{ include "bible.secretEnvVar" (dict "name" "S3_SECRET_ACCESS_KEY" "secret" $secret "key" $keys.s3SecretAccessKey) }}
{{- end }}
{{- if $c.jwt }}
{{- /* Optional: a gateway verifying tokens through JWT_JWKS_URL needs no shared secret. */}}
{{ include "bible.secretEnvVar" (dict "name" "JWT_SECRET" "secret" $secret "key" $keys.jwtSecret "optional" true) }}
{{- end }}
{{- if $c.webhooks }}
{{ include "bible.secretEnvVar" (dict "name" "WEBHOOK_SECRET_KEY" "secret" $secret "key" $keys.webhookSecretKey) }}
{{- end }}
{{- if and (eq $c.key "apiGateway") $root.Values.queueConsole.enabled }}
{{ include "bible.secretEnvVar" (dict "name" "QUEUE_CONSOLE_PASSWORD" "secret" $secret "key" $keys.queueConsolePassword) }}
{{- end }}
{{- end }}

{{/* Plain env entries from a map (sorted by name). */}}
{{- define "bible.envMap" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ toString $v | quote }}
{{- end }}
{{- end }}

{{/* Component-specific plain env. Args: dict root name v (component values) */}}
{{- define "bible.componentEnv" -}}
{{- $root := .root }}
{{- $v := .v }}
{{- if eq .name "api-gateway" }}
- name: TRUST_PROXY
  value: {{ $v.trustProxy | quote }}
{{- with $root.Values.notifier.push.webPush }}
{{- if .enabled }}
- name: VAPID_PUBLIC_KEY
  value: {{ .publicKey | quote }}
{{- end }}
{{- end }}
{{- range $k, $val := $v.rateLimits }}
- name: RATE_LIMIT_{{ upper $k }}
  value: {{ toString $val | quote }}
{{- end }}
{{- with $root.Values.queueConsole }}
{{- if .enabled }}
{{- if eq (int .port) (int $v.port) }}
{{- fail "queueConsole.port must differ from apiGateway.port (the console is internal)" }}
{{- end }}
- name: QUEUE_CONSOLE_PORT
  value: {{ .port | quote }}
- name: QUEUE_CONSOLE_HOST
  value: {{ .host | quote }}
- name: QUEUE_CONSOLE_USER
  value: {{ .user | quote }}
- name: QUEUE_CONSOLE_READ_ONLY
  value: {{ .readOnly | quote }}
{{- end }}
{{- end }}
{{- else if eq .name "package-builder" }}
- name: BUILDER_CONCURRENCY
  value: {{ $v.concurrency | quote }}
- name: BUILDER_AUDIO_CONCURRENCY
  value: {{ $v.audioConcurrency | quote }}
- name: BUILD_TMP_DIR
  value: {{ $v.buildTmp.mountPath | quote }}
{{- if include "bible.signingEnabled" $root }}
- name: SIGNING_PRIVATE_KEY_FILE
  value: {{ printf "%s/signing-key.pem" $root.Values.signingKey.mountPath | quote }}
{{- end }}
{{- with $root.Values.signingKey.keyId }}
- name: SIGNING_KEY_ID
  value: {{ . | quote }}
{{- end }}
{{- else if eq .name "notifier" }}
- name: WEBHOOK_TIMEOUT_MS
  value: {{ $v.webhooks.timeoutMs | quote }}
- name: WEBHOOK_RETRY_SCHEDULE
  value: {{ $v.webhooks.retrySchedule | quote }}
- name: WEBHOOK_DISABLE_AFTER
  value: {{ $v.webhooks.disableAfter | quote }}
- name: WEBHOOK_CONCURRENCY
  value: {{ $v.webhooks.concurrency | quote }}
- name: WEBHOOK_ENDPOINT_CONCURRENCY
  value: {{ $v.webhooks.endpointConcurrency | quote }}
{{- $p := $v.push }}
{{- if and (or $p.fcm.enabled $p.apns.enabled $p.webPush.enabled $p.caSecretKey) (not $p.existingSecret) }}
{{- fail "notifier.push.existingSecret is required when a push provider or notifier.push.caSecretKey is set" }}
{{- end }}
{{- if $p.fcm.enabled }}
- name: FCM_SERVICE_ACCOUNT_FILE
  value: /etc/bible/push/fcm-service-account.json
{{- with $p.fcm.projectId }}
- name: FCM_PROJECT_ID
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if $p.apns.enabled }}
- name: APNS_KEY_FILE
  value: /etc/bible/push/apns-key.p8
- name: APNS_KEY_ID
  value: {{ required "notifier.push.apns.keyId" $p.apns.keyId | quote }}
- name: APNS_TEAM_ID
  value: {{ required "notifier.push.apns.teamId" $p.apns.teamId | quote }}
- name: APNS_TOPIC
  value: {{ required "notifier.push.apns.topic" $p.apns.topic | quote }}
- name: APNS_HOST
  value: {{ $p.apns.host | quote }}
{{- end }}
{{- if $p.caSecretKey }}
- name: APNS_CA_FILE
  value: /etc/bible/push/ca.pem
- name: WEBPUSH_CA_FILE
  value: /etc/bible/push/ca.pem
{{- end }}
{{- if $p.webPush.enabled }}
- name: VAPID_PUBLIC_KEY
  value: {{ required "notifier.push.webPush.publicKey" $p.webPush.publicKey | quote }}
- name: VAPID_SUBJECT
  value: {{ required "notifier.push.webPush.subject" $p.webPush.subject | quote }}
- name: VAPID_PRIVATE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $p.existingSecret }}
      key: vapid-private-key
{{- end }}
- name: PUSH_RATE_FCM
  value: {{ $p.rate.fcm | quote }}
- name: PUSH_RATE_APNS
  value: {{ $p.rate.apns | quote }}
- name: PUSH_RATE_WEBPUSH
  value: {{ $p.rate.webpush | quote }}
- name: PUSH_CONCURRENCY
  value: {{ $p.concurrency | quote }}
- name: PUSH_SEND_BATCH
  value: {{ $p.sendBatch | quote }}
- name: PUSH_FANOUT_PAGE_SIZE
  value: {{ $p.fanoutPageSize | quote }}
- name: PUSH_COALESCE_WINDOW_MS
  value: {{ $p.coalesceWindowMs | quote }}
{{- else if eq .name "sync-service" }}
{{- if $v.relayIntervalMs }}
- name: SYNC_RELAY_INTERVAL_MS
  value: {{ $v.relayIntervalMs | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
<service>.settings key -> environment variable, per values key. A null (or empty) setting is not
rendered, so the service's own default applies. Every variable a service's config schema reads
is settable through values; scripts/deploy-checks.sh compares the schemas with the render.
*/}}
{{- define "bible.settingsTable" -}}
apiGateway:
  headersTimeoutMs: HTTP_HEADERS_TIMEOUT_MS
  requestTimeoutMs: HTTP_REQUEST_TIMEOUT_MS
  maxConnectionsPerIp: HTTP_MAX_CONNECTIONS_PER_IP
  downloadRedirectDefault: DOWNLOAD_REDIRECT_DEFAULT
  presignExpirySeconds: PRESIGN_EXPIRY_SECONDS
  downloadMaxUpstreamStreams: DOWNLOAD_MAX_UPSTREAM_STREAMS
  downloadClientStallTimeoutSeconds: DOWNLOAD_CLIENT_STALL_TIMEOUT_SECONDS
  sseMaxStreamSeconds: SSE_MAX_STREAM_SECONDS
  contentCacheTtlSeconds: CONTENT_CACHE_TTL_SECONDS
  mediaMaxBytes: MEDIA_MAX_BYTES
  mediaObjectPrefix: MEDIA_OBJECT_PREFIX
  mediaSweepIntervalMs: MEDIA_SWEEP_INTERVAL_MS
  mediaSweepMinAgeSeconds: MEDIA_SWEEP_MIN_AGE_SECONDS
  packageDeltaMaxShare: PACKAGE_DELTA_MAX_SHARE
packageBuilder:
  lockDurationMs: BUILDER_LOCK_DURATION_MS
  multipartSweepAgeMs: MULTIPART_SWEEP_AGE_MS
  staleRetentionHours: PACKAGE_STALE_RETENTION_HOURS
  maintenanceIntervalMs: MAINTENANCE_INTERVAL_MS
syncService:
  relayBatchSize: SYNC_RELAY_BATCH_SIZE
  changeRetentionDays: SYNC_CHANGE_RETENTION_DAYS
  queueRetentionDays: SYNC_QUEUE_RETENTION_DAYS
  sessionTtlHours: SYNC_SESSION_TTL_HOURS
  pendingTimeoutSeconds: SYNC_PENDING_TIMEOUT_SECONDS
  maintenanceIntervalMs: SYNC_MAINTENANCE_INTERVAL_MS
  statsIntervalMs: SYNC_STATS_INTERVAL_MS
notifier:
  webhookDispatchBatchSize: WEBHOOK_DISPATCH_BATCH_SIZE
  webhookDispatchIntervalMs: WEBHOOK_DISPATCH_INTERVAL_MS
  webhookMaxQueued: WEBHOOK_MAX_QUEUED
  webhookRecoveryAfterMs: WEBHOOK_RECOVERY_AFTER_MS
  eventsRetentionDays: EVENTS_RETENTION_DAYS
  eventsPruneIntervalMs: EVENTS_PRUNE_INTERVAL_MS
  eventsPruneBatchSize: EVENTS_PRUNE_BATCH_SIZE
  pushMaxAttempts: PUSH_MAX_ATTEMPTS
  pushRetryBaseMs: PUSH_RETRY_BASE_MS
  pushTimeoutMs: PUSH_TIMEOUT_MS
  pushRecoveryAfterMs: PUSH_RECOVERY_AFTER_MS
  pushTtlSeconds: PUSH_TTL_SECONDS
  pushDispatchIntervalMs: PUSH_DISPATCH_INTERVAL_MS
  pushDispatchBatchSize: PUSH_DISPATCH_BATCH_SIZE
  fcmEndpoint: FCM_ENDPOINT
  fcmTokenUri: FCM_TOKEN_URI
{{- end }}

{{/* Env entries of a component's settings. Args: dict root key (values key) v (component values) */}}
{{- define "bible.settingsEnv" -}}
{{- $table := index (include "bible.settingsTable" .root | fromYaml) .key | default dict }}
{{- $settings := .v.settings | default dict }}
{{- range $k, $env := $table }}
{{- $val := index $settings $k }}
{{- if not (or (kindIs "invalid" $val) (eq (toString $val) "")) }}
- name: {{ $env }}
  value: {{ toString $val | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Validation that helm lint/template/install fail on, with a message naming the value to fix.
*/}}
{{- define "bible.validate" -}}
{{- $components := include "bible.components" . | fromYaml }}
{{- range $name, $c := $components }}
{{- $v := index $.Values $c.key }}
{{- if $v.enabled }}
{{- $needed := add (div (int $v.shutdownTimeoutMs) 1000) (int $v.preStopSleepSeconds) }}
{{- if le (int $v.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than %s.shutdownTimeoutMs/1000 + preStopSleepSeconds (%d), or the kubelet kills pods mid-drain" $c.key (int $v.terminationGracePeriodSeconds) $c.key (int $needed)) }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.ingress.paths }}
{{- if not (or (eq . "/v1") (hasPrefix "/v1/" .)) }}
{{- fail (printf "ingress.paths: %q is not under /v1; only the public API may be exposed (never /metrics or /health)" .) }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.apiGateway.enabled) }}
{{- fail "ingress.enabled requires apiGateway.enabled" }}
{{- end }}
{{- end }}
