import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/*
 * Server-side request forgery guard for every URL the platform calls on a customer's behalf
 * (webhooks now, push endpoints later). Plain functions: the gateway checks a URL when it is
 * registered and the notifier checks the addresses again when it connects (guardedLookup), so a
 * name that resolves somewhere else later (DNS rebinding) is refused at connect time too.
 */

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type Cidr = [Address, number];

/** Cloud metadata endpoints, named in errors because they are the usual SSRF target. */
const METADATA = ['169.254.169.254', 'fd00:ec2::254'].map((a) => ipaddr.parse(a).toString());

export class AddressRefusedError extends Error {
  readonly code = 'EADDRREFUSED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(
      `${host} resolves to ${address}, a ${range} address; outbound calls to it are refused unless it is inside WEBHOOK_ALLOWED_CIDRS`,
    );
    this.name = 'AddressRefusedError';
  }
}

/**
 * Parses a comma-separated allowlist such as `127.0.0.0/8,::1/128,10.1.2.3` (a bare address is
 * its own /32 or /128). Throws naming the first invalid entry.
 */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      try {
        if (entry.includes('/')) return ipaddr.parseCIDR(entry);
        const address = ipaddr.parse(entry);
        return [address, address.kind() === 'ipv4' ? 32 : 128] as Cidr;
      } catch {
        throw new Error(`"${entry}" is not an IP address or CIDR range`);
      }
    });
}

/**
 * Why an address may not be called, or null when it may. Only globally routable unicast
 * addresses pass (ipaddr.js's `unicast` range); IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as
 * the IPv4 address it carries. The allowlist overrides the refusal.
 */
export function refusedRange(address: string, allowed: readonly Cidr[]): string | null {
  let parsed: Address;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'unparseable';
  }
  for (const [range, bits] of allowed) {
    if (range.kind() === parsed.kind() && parsed.match(range, bits)) return null;
  }
  if (METADATA.includes(parsed.toString())) return 'cloud metadata';
  const range = parsed.range();
  return range === 'unicast' ? null : describeRange(range);
}

function describeRange(range: string): string {
  switch (range) {
    case 'private':
    case 'uniqueLocal':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local';
    case 'multicast':
    case 'broadcast':
      return 'multicast/broadcast';
    case 'unspecified':
      return 'unspecified';
    case 'carrierGradeNat':
      return 'carrier-grade NAT';
    default:
      return `special-purpose (${range})`;
  }
}

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Host of a URL without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export type UrlVerdict = { ok: true; addresses: string[] } | { ok: false; reason: string };

/**
 * Resolves the URL's host and refuses it when any address it resolves to is refused (one good
 * address among bad ones is still a way in). Used at registration; delivery re-checks on connect.
 */
export async function checkUrl(
  url: URL,
  allowed: readonly Cidr[],
  lookup: LookupAll = systemLookup,
): Promise<UrlVerdict> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'must be an http or https URL' };
  if (url.username || url.password)
    return { ok: false, reason: 'must not contain credentials (sign requests instead)' };
  const host = urlHost(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host)).map((a) => a.address);
    } catch (error) {
      return {
        ok: false,
        reason: `host ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
      };
    }
    if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
  }
  for (const address of addresses) {
    const range = refusedRange(address, allowed);
    if (range) return { ok: false, reason: new AddressRefusedError(host, address, range).message };
  }
  return { ok: true, addresses };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/http/https agents that refuses refused addresses at connect time (the
 * socket never opens), so the address that was checked is the address that is called. Node calls
 * lookup only for names; callers check IP-literal URLs with `refusedRange` before requesting.
 */
export function guardedLookup(allowed: readonly Cidr[]) {
  return (
    hostname: string,
    options: { family?: number | string; all?: boolean; hints?: number },
    callback: LookupCallback,
  ): void => {
    const family =
      options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
    dnsLookup(
      hostname,
      { family: family, hints: options.hints, all: true, verbatim: true },
      (error, addresses) => {
        if (error) return callback(error, options.all ? [] : '');
        for (const a of addresses) {
          const range = refusedRange(a.address, allowed);
          if (range) return callback(new AddressRefusedError(hostname, a.address, range), '');
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) {
          const notFound: NodeJS.ErrnoException = new Error(`${hostname} does not resolve`);
          notFound.code = 'ENOTFOUND';
          return callback(notFound, '');
        }
        callback(null, first.address, first.family);
      },
    );
  };
}
