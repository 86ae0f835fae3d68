export const ROLES = ['user', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface AuthUser {
  id: string;
  role: Role;
}

/** Role ranks: an admin may do what an editor may, an editor what a user may. */
export const roleRank: Record<Role, number> = { user: 0, editor: 1, admin: 2 };

export function hasRole(user: AuthUser, required: Role): boolean {
  return roleRank[user.role] >= roleRank[required];
}
