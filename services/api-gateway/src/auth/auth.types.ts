import { type Role, roleRank } from '@bible/common';

export { ROLES, type Role, roleRank } from '@bible/common';

export interface AuthUser {
  id: string;
  role: Role;
}

export function hasRole(user: AuthUser, required: Role): boolean {
  if (required === 'service') return user.role === 'service';
  return roleRank[user.role] >= roleRank[required];
}
