import type { SendOutcome } from './provider';

const ERROR_TEXT_MAX = 300;
const short = (s: string) => (s.length > ERROR_TEXT_MAX ? `${s.slice(0, ERROR_TEXT_MAX)}…` : s);
const retryable = (status: number) => status === 429 || status >= 500;

interface FcmErrorBody {
  error?: {
    code?: number;
    status?: string;
    message?: string;
    details?: {
      '@type'?: string;
      errorCode?: string;
      fieldViolations?: { field?: string }[];
    }[];
  };
}

/**
 * FCM HTTP v1 answers (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode): the
 * FcmError detail's errorCode decides, the HTTP status backs it up.
 */
export function classifyFcm(
  status: number,
  body: unknown,
  retryAfterMs: number | null,
): SendOutcome {
  if (status >= 200 && status < 300) {
    const name = (body as { name?: unknown } | null)?.name;
    return { kind: 'sent', messageId: typeof name === 'string' ? name : null, statusCode: status };
  }
  const error = (body as FcmErrorBody | null)?.error;
  const details = error?.details ?? [];
  const fcmCode = details.find((d) =>
    d['@type']?.endsWith('google.firebase.fcm.v1.FcmError'),
  )?.errorCode;
  const code = fcmCode ?? error?.status ?? `HTTP_${status}`;
  const reason = short(`FCM ${status} ${code}${error?.message ? `: ${error.message}` : ''}`);
  const tokenViolation = details.some((d) =>
    d.fieldViolations?.some((v) => v.field === 'message.token'),
  );
  if (code === 'UNREGISTERED' || status === 404)
    return { kind: 'prune', reason, statusCode: status };
  if (code === 'SENDER_ID_MISMATCH') return { kind: 'prune', reason, statusCode: status };
  if (code === 'INVALID_ARGUMENT' && tokenViolation)
    return { kind: 'prune', reason, statusCode: status };
  if (
    retryable(status) ||
    code === 'QUOTA_EXCEEDED' ||
    code === 'UNAVAILABLE' ||
    code === 'INTERNAL' ||
    status === 401 // an expired OAuth token: the next attempt gets a fresh one
  )
    return { kind: 'retry', reason, statusCode: status, retryAfterMs };
  return { kind: 'failed', reason, statusCode: status };
}

/** APNs answers (Apple: "Handling notification responses from APNs"). */
export function classifyApns(
  status: number,
  body: { reason?: string; timestamp?: number } | null,
  apnsId: string | null,
  retryAfterMs: number | null,
): SendOutcome {
  if (status === 200) return { kind: 'sent', messageId: apnsId, statusCode: status };
  const code = body?.reason ?? `HTTP_${status}`;
  const reason = `APNs ${status} ${code}`;
  if (status === 410 && (code === 'Unregistered' || code === 'ExpiredToken'))
    return {
      kind: 'prune',
      reason,
      statusCode: status,
      ...(typeof body?.timestamp === 'number' && { invalidSince: new Date(body.timestamp) }),
    };
  if (status === 400 && (code === 'BadDeviceToken' || code === 'DeviceTokenNotForTopic'))
    return { kind: 'prune', reason, statusCode: status };
  if (retryable(status) || code === 'ExpiredProviderToken')
    return { kind: 'retry', reason, statusCode: status, retryAfterMs };
  return { kind: 'failed', reason, statusCode: status };
}

/** Web Push (RFC 8030): 404/410 mean the subscription is gone. */
export function classifyWebPush(
  status: number,
  location: string | null,
  body: string,
  retryAfterMs: number | null,
): SendOutcome {
  if (status >= 200 && status < 300)
    return { kind: 'sent', messageId: location, statusCode: status };
  const reason = short(`Web Push ${status}${body ? `: ${body}` : ''}`);
  if (status === 404 || status === 410) return { kind: 'prune', reason, statusCode: status };
  if (retryable(status)) return { kind: 'retry', reason, statusCode: status, retryAfterMs };
  return { kind: 'failed', reason, statusCode: status };
}

/** No answer at all (connection refused, reset, timeout): the provider may be back soon. */
export function networkFailure(provider: string, error: unknown): SendOutcome {
  const e = error as { code?: string; message?: string };
  return {
    kind: 'retry',
    reason: short(`${provider}: ${e.code ?? 'ERROR'} ${e.message ?? String(error)}`),
    statusCode: null,
    retryAfterMs: null,
  };
}
