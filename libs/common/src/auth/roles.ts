/** The roles a token may carry (the `role` claim); the gateway's guard and the sync rules read them. */
export const ROLES = ['user', 'editor', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Role ranks: an admin may do what an editor may, an editor what a user may. `service` (an
 * internal service's machine token) ranks as a user and, beyond that, only reaches routes that
 * name it explicitly.
 */
export const roleRank: Record<Role, number> = { user: 0, service: 0, editor: 1, admin: 2 };
