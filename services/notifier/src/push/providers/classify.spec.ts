import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyApns, classifyFcm, classifyWebPush } from './classify';

const fcmError = (status: number, errorCode: string, extra: object[] = []) => ({
  error: {
    code: status,
    status: 'X',
    details: [
      { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode },
      ...extra,
    ],
  },
});

describe('provider answers are classified by code', () => {
  it('FCM', () => {
    assert.equal(classifyFcm(200, { name: 'projects/p/messages/1' }, null).kind, 'sent');
    assert.equal(classifyFcm(404, fcmError(404, 'UNREGISTERED'), null).kind, 'prune');
    assert.equal(classifyFcm(403, fcmError(403, 'SENDER_ID_MISMATCH'), null).kind, 'prune');
    const tokenViolation = {
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'message.token' }],
    };
    assert.equal(
      classifyFcm(400, fcmError(400, 'INVALID_ARGUMENT', [tokenViolation]), null).kind,
      'prune',
    );
    // A bad payload is our bug: failed, the token stays.
    assert.equal(classifyFcm(400, fcmError(400, 'INVALID_ARGUMENT'), null).kind, 'failed');
    const throttled = classifyFcm(429, fcmError(429, 'QUOTA_EXCEEDED'), 30_000);
    assert.deepEqual(
      [throttled.kind, throttled.kind === 'retry' && throttled.retryAfterMs],
      ['retry', 30_000],
    );
    assert.equal(classifyFcm(503, fcmError(503, 'UNAVAILABLE'), null).kind, 'retry');
    assert.equal(classifyFcm(500, null, null).kind, 'retry');
  });

  it('APNs, with the 410 timestamp', () => {
    assert.equal(classifyApns(200, null, 'id-1', null).kind, 'sent');
    const gone = classifyApns(
      410,
      { reason: 'Unregistered', timestamp: 1_700_000_000_000 },
      null,
      null,
    );
    assert.equal(gone.kind, 'prune');
    assert.equal(gone.kind === 'prune' && gone.invalidSince?.getTime(), 1_700_000_000_000);
    assert.equal(classifyApns(400, { reason: 'BadDeviceToken' }, null, null).kind, 'prune');
    assert.equal(classifyApns(400, { reason: 'DeviceTokenNotForTopic' }, null, null).kind, 'prune');
    assert.equal(classifyApns(400, { reason: 'BadCollapseId' }, null, null).kind, 'failed');
    assert.equal(classifyApns(429, { reason: 'TooManyRequests' }, null, null).kind, 'retry');
    assert.equal(classifyApns(403, { reason: 'ExpiredProviderToken' }, null, null).kind, 'retry');
    assert.equal(classifyApns(403, { reason: 'InvalidProviderToken' }, null, null).kind, 'failed');
    assert.equal(classifyApns(503, { reason: 'ServiceUnavailable' }, null, null).kind, 'retry');
  });

  it('Web Push', () => {
    assert.equal(classifyWebPush(201, 'https://push/m/1', '', null).kind, 'sent');
    assert.equal(classifyWebPush(404, null, '', null).kind, 'prune');
    assert.equal(classifyWebPush(410, null, '', null).kind, 'prune');
    assert.equal(classifyWebPush(413, null, '', null).kind, 'failed');
    const r = classifyWebPush(429, null, '', 5_000);
    assert.equal(r.kind === 'retry' && r.retryAfterMs, 5_000);
  });
});
