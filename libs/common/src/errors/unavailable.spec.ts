import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDependencyUnavailable } from './unavailable';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it('recognises Postgres being down, shutting down or out of connections', () => {
    for (const error of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('53300', 'sorry, too many clients already'),
      withCode('57P03', 'the database system is starting up'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      // TypeORM's QueryFailedError keeps the driver's error.
      Object.assign(new Error('query failed'), { driverError: withCode('57P01') }),
      // Happy-eyeballs connects fail with one error per address.
      Object.assign(new AggregateError([withCode('ECONNREFUSED')]), { code: undefined }),
    ])
      assert.equal(isDependencyUnavailable(error), true, String(error));
  });

  it('recognises ioredis failing fast', () => {
    assert.ok(
      isDependencyUnavailable(
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      ),
    );
    assert.ok(isDependencyUnavailable(new Error('Connection is closed.')));
    const retries = new Error('Reached the max retries per request limit (which is 0).');
    retries.name = 'MaxRetriesPerRequestError';
    assert.ok(isDependencyUnavailable(retries));
  });

  it('leaves real errors alone', () => {
    for (const error of [
      withCode('22P02', 'invalid input syntax for type uuid'),
      withCode('23505', 'duplicate key value violates unique constraint'),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      'a string',
      null,
    ])
      assert.equal(isDependencyUnavailable(error), false, String(error));
  });
});
