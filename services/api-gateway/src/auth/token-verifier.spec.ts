import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { GatewayConfig } from '../config';
import { TokenVerifier } from './token-verifier';

const SECRET = 'a-test-secret-of-at-least-32-characters!!';
const config = { JWT_SECRET: SECRET } as GatewayConfig;
const T0 = Date.parse('2026-12-01T12:00:00Z');

function sign(claims: { sub?: string; role?: string }, expSeconds: number, secret = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(T0 / 1000)
    .setExpirationTime(T0 / 1000 + expSeconds)
    .sign(new TextEncoder().encode(secret));
}

describe('TokenVerifier', () => {
  it('answers a repeated token from what it verified, identically', async () => {
    const verifier = new TokenVerifier(config);
    const token = await sign({ sub: 'u1', role: 'editor' }, 3_600);
    assert.deepEqual(await verifier.verify(token, T0), { id: 'u1', role: 'editor' });
    assert.deepEqual(await verifier.verify(token, T0 + 1_000), { id: 'u1', role: 'editor' });
  });

  it('never trusts a remembered token past its expiry (plus the clock tolerance)', async () => {
    const verifier = new TokenVerifier(config);
    const token = await sign({ sub: 'u1' }, 10);
    assert.equal((await verifier.verify(token, T0)).id, 'u1');
    assert.equal((await verifier.verify(token, T0 + 39_000)).id, 'u1', 'within the tolerance');
    await assert.rejects(verifier.verify(token, T0 + 41_000), /exp/);
  });

  it('re-verifies after the cache lifetime, so a token expiring later still checks out', async () => {
    const verifier = new TokenVerifier(config);
    const token = await sign({ sub: 'u1' }, 3_600);
    await verifier.verify(token, T0);
    assert.equal((await verifier.verify(token, T0 + 61_000)).id, 'u1');
    await assert.rejects(verifier.verify(token, T0 + 3_700_000), /exp/);
  });

  it('refuses a bad signature every time and a bad role or sub', async () => {
    const verifier = new TokenVerifier(config);
    const forged = await sign(
      { sub: 'u1', role: 'admin' },
      3_600,
      'another-secret-of-32-characters-or-more',
    );
    await assert.rejects(verifier.verify(forged, T0), /signature/);
    await assert.rejects(verifier.verify(forged, T0), /signature/);
    await assert.rejects(verifier.verify(await sign({ sub: 'u1', role: 'root' }, 60), T0), /role/);
    await assert.rejects(verifier.verify(await sign({}, 60), T0), /sub/);
  });
});
