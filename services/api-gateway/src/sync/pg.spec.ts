import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '@bible/common';
import { translateDbError } from './pg';

describe('translateDbError', () => {
  it('turns outages and transient errors into 503 with Retry-After', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
      Object.assign(new Error('deadlock detected'), { code: '40P01' }),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      assert.throws(
        () => translateDbError(error),
        (e: unknown) =>
          e instanceof AppError && e.status === 503 && e.headers['Retry-After'] === '2',
      );
    }
  });

  it('passes AppErrors and real bugs through unchanged', () => {
    const appError = new AppError(404, 'NOT_FOUND', 'x');
    assert.throws(
      () => translateDbError(appError),
      (e: unknown) => e === appError,
    );
    const bug = Object.assign(new Error('syntax error'), { code: '42601' });
    assert.throws(
      () => translateDbError(bug),
      (e: unknown) => e === bug,
    );
  });
});
