import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * True when an `Authorization: Basic` header carries exactly `user:password`. Both sides are
 * hashed first so the comparison takes the same time whatever the lengths.
 */
export function basicAuthMatches(
  header: string | undefined,
  user: string,
  password: string,
): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1], 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(`${user}:${password}`));
}
