import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Role, hasRole } from './auth.types';

describe('roles', () => {
  const user = (role: Role) => ({ id: 'x', role });

  it('rank user < editor < admin', () => {
    assert.equal(hasRole(user('admin'), 'editor'), true);
    assert.equal(hasRole(user('editor'), 'admin'), false);
    assert.equal(hasRole(user('user'), 'user'), true);
  });

  it('a service token is a user plus what names service, never an editor or admin', () => {
    assert.equal(hasRole(user('service'), 'service'), true);
    assert.equal(hasRole(user('service'), 'user'), true);
    assert.equal(hasRole(user('service'), 'editor'), false);
    assert.equal(hasRole(user('service'), 'admin'), false);
    assert.equal(hasRole(user('admin'), 'service'), false, 'admins pass as admin, not as service');
  });
});
