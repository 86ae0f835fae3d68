import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basicAuthMatches } from './basic-auth';

const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

describe('basicAuthMatches', () => {
  it('accepts exactly user:password', () => {
    assert.equal(basicAuthMatches(header('ops:s3cret-s3cret-1'), 'ops', 's3cret-s3cret-1'), true);
  });

  it('refuses a wrong user, a wrong or longer password, other schemes and no header', () => {
    for (const h of [
      header('root:s3cret-s3cret-1'),
      header('ops:s3cret-s3cret-2'),
      header('ops:s3cret-s3cret-1x'),
      header('ops'),
      'Bearer abc',
      'Basic !!!',
      undefined,
    ])
      assert.equal(basicAuthMatches(h, 'ops', 's3cret-s3cret-1'), false, String(h));
  });

  it('allows a colon inside the password', () => {
    assert.equal(
      basicAuthMatches(header('ops:a:b:c-long-enough'), 'ops', 'a:b:c-long-enough'),
      true,
    );
  });
});
