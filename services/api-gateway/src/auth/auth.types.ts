export const ROLES = ['user', 'editor', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface AuthUser {
  id: string;
  role: Role;
}

/**
 * Role ranks: an admin may do what an editor may, an editor what a user may. `service` (an
 * internal service's machine token) ranks as a user and, beyond that, only reaches routes that
 * name it explicitly.
 */
export const roleRank: Record<Role, number> = { user: 0, service: 0, editor: 1, admin: 2 };

export function hasRole(user: AuthUser, required: Role): boolean {
  if (required === 'service') return user.role === 'service';
  return roleRank[user.role] >= roleRank[required];
}
