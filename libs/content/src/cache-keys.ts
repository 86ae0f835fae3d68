import { createHash } from 'node:crypto';

/**
 * Redis key prefix of the gateway's catalog cache for one database (host, port and name, never
 * credentials), so gateways of different environments sharing one Redis never read each other's
 * entries. Writers outside the gateway (the import CLI) bump `${prefix}:generation` to make
 * cached catalog reads stale at once.
 */
export function contentCachePrefix(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const scope = createHash('sha256')
    .update(`${url.hostname}:${url.port}${url.pathname}`)
    .digest('base64url')
    .slice(0, 10);
  return `content:${scope}`;
}
