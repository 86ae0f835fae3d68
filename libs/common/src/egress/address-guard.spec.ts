import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import {
  AddressRefusedError,
  checkUrl,
  guardedLookup,
  parseCidrList,
  refusedRange,
} from './address-guard';

const none = parseCidrList('');
const loopback = parseCidrList('127.0.0.0/8, ::1');

describe('address guard', () => {
  it('refuses every non-public range, IPv4 and IPv6', () => {
    const cases: [string, string][] = [
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['127.9.9.9', 'loopback'],
      ['169.254.10.1', 'link-local'],
      ['169.254.169.254', 'cloud metadata'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast/broadcast'],
      ['255.255.255.255', 'multicast/broadcast'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fc00::1', 'private'],
      ['fd12:3456::1', 'private'],
      ['fd00:ec2::254', 'cloud metadata'],
      ['ff02::1', 'multicast/broadcast'],
      // IPv4-mapped IPv6 is judged as the IPv4 address inside it.
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.169.254', 'cloud metadata'],
    ];
    for (const [address, range] of cases) {
      assert.equal(refusedRange(address, none), range, address);
    }
    assert.match(refusedRange('64:ff9b::a00:1', none) ?? '', /special-purpose/);
    assert.equal(refusedRange('not-an-ip', none), 'unparseable');
  });

  it('lets public unicast addresses through', () => {
    for (const address of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:2800:220:1:248:1893:25c8:1946',
      '::ffff:8.8.8.8',
    ])
      assert.equal(refusedRange(address, none), null, address);
  });

  it('the allowlist overrides the refusal, only inside its ranges', () => {
    assert.equal(refusedRange('127.0.0.1', loopback), null);
    assert.equal(refusedRange('::1', loopback), null);
    assert.equal(refusedRange('::ffff:127.0.0.1', loopback), null);
    assert.equal(refusedRange('10.0.0.1', loopback), 'private');
    const tenOne = parseCidrList('10.1.0.0/16');
    assert.equal(refusedRange('10.1.200.3', tenOne), null);
    assert.equal(refusedRange('10.2.0.1', tenOne), 'private');
  });

  it('parses allowlists and names a bad entry', () => {
    assert.equal(parseCidrList(' 127.0.0.0/8 ,, ::1/128 ,10.0.0.5').length, 3);
    assert.throws(() => parseCidrList('127.0.0.0/8,localhost'), /"localhost" is not an IP/);
    assert.throws(() => parseCidrList('10.0.0.0/33'), /not an IP address or CIDR/);
  });

  it('checkUrl resolves names and refuses when any address is refused', async () => {
    const dns = (map: Record<string, string[]>) => async (host: string) => {
      if (!map[host]) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      return map[host].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    const lookup = dns({
      'public.example': ['93.184.216.34'],
      'mixed.example': ['93.184.216.34', '10.0.0.7'],
      'local.example': ['127.0.0.1'],
    });
    assert.deepEqual(await checkUrl(new URL('https://public.example/hook'), none, lookup), {
      ok: true,
      addresses: ['93.184.216.34'],
    });
    const mixed = await checkUrl(new URL('https://mixed.example/'), none, lookup);
    assert.equal(mixed.ok, false);
    assert.match(!mixed.ok ? mixed.reason : '', /10\.0\.0\.7, a private address/);
    const local = await checkUrl(new URL('http://local.example:8080/'), none, lookup);
    assert.match(!local.ok ? local.reason : '', /loopback/);
    assert.equal((await checkUrl(new URL('http://local.example/'), loopback, lookup)).ok, true);
    const literal = await checkUrl(new URL('http://[::1]:9/'), none, lookup);
    assert.match(!literal.ok ? literal.reason : '', /::1, a loopback/);
    const metadata = await checkUrl(new URL('http://169.254.169.254/latest'), loopback, lookup);
    assert.match(!metadata.ok ? metadata.reason : '', /cloud metadata/);
    const missing = await checkUrl(new URL('https://nowhere.example/'), none, lookup);
    assert.match(!missing.ok ? missing.reason : '', /does not resolve \(ENOTFOUND\)/);
    const creds = await checkUrl(new URL('https://u:p@public.example/'), none, lookup);
    assert.match(!creds.ok ? creds.reason : '', /credentials/);
  });

  it('the connect-time lookup keeps the socket from opening to a refused address', async () => {
    const server = createServer((_, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const request = (allowed: typeof none) =>
      new Promise<string>((resolve, reject) => {
        const agent = new Agent({ lookup: guardedLookup(allowed) });
        get({ host: 'localhost', port, family: 4, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        }).on('error', reject);
      });
    let connections = 0;
    server.on('connection', () => connections++);
    try {
      await assert.rejects(request(none), (error: unknown) => {
        assert.ok(error instanceof AddressRefusedError);
        assert.match(error.message, /localhost resolves to 127\.0\.0\.1, a loopback address/);
        return true;
      });
      assert.equal(connections, 0);
      assert.equal(await request(loopback), '200');
      assert.equal(connections, 1);
    } finally {
      server.close();
    }
  });
});
