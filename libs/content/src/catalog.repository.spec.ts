import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containsPattern } from './catalog.repository';

describe('catalog queries', () => {
  it('escapes LIKE patterns', () => {
    assert.equal(containsPattern('50%_off\\'), '%50\\%\\_off\\\\%');
  });
});
