// Fuzz: random bytes, random mutations (raw and "resealed" so they get past the hash checks)
// and truncations must end in a PackageFormatError with a known code or a valid result —
// never a hang, a crash or any other exception.
import fc from 'fast-check';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ERROR_CODES, PackageFormatError } from './errors';
import { verifyPackage } from './reader';
import { createKeyring } from './signing';
import { VECTORS_DIR } from './test-support/helpers';
import { assemble, splitPackage, withDatabase } from './test-support/surgery';

const valid = fs.readFileSync(path.join(VECTORS_DIR, 'valid-combined.bible'));
const signed = fs.readFileSync(path.join(VECTORS_DIR, 'valid-signed.bible'));
const keyring = createKeyring({
  'test-key': fs.readFileSync(path.join(VECTORS_DIR, 'keys', 'test-key.public.pem')),
});

const TIMEOUT_MS = 10_000;

/** Runs the verifier with a deadline; returns 'valid' or the error code. */
async function outcome(bytes: Buffer, withKeys = false): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`verifier hung for ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    await Promise.race([verifyPackage(bytes, withKeys ? { keyring } : {}), deadline]);
    return 'valid';
  } catch (err) {
    if (!(err instanceof PackageFormatError)) throw err;
    assert.ok((PACKAGE_ERROR_CODES as readonly string[]).includes(err.code), err.code);
    return err.code;
  } finally {
    clearTimeout(timer);
  }
}

const mutation = fc.record({
  edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
    minLength: 1,
    maxLength: 8,
  }),
  /** Restrict edits to the first N bytes sometimes, where the interesting structure is. */
  window: fc.constantFrom(128, 2048, Number.MAX_SAFE_INTEGER),
});

function mutate(
  base: Buffer,
  m: { edits: { at: number; value: number }[]; window: number },
  from = 0,
): Buffer {
  const out = Buffer.from(base);
  const span = Math.min(out.length - from, m.window);
  for (const e of m.edits) out[from + (e.at % span)] = e.value;
  return out;
}

void describe('fuzz', () => {
  void it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.boolean(),
        async (random, withMagic) => {
          const bytes = Buffer.from(random);
          if (withMagic) bytes.write('BIBLE001', 0, 'ascii');
          assert.notEqual(await outcome(bytes), 'valid');
        },
      ),
      { numRuns: 300 },
    );
  });

  void it('raw mutations of valid packages', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, fc.boolean(), async (m, useSigned) => {
        const base = useSigned ? signed : valid;
        const bytes = mutate(base, m);
        const result = await outcome(bytes, useSigned);
        if (!bytes.equals(base)) assert.notEqual(result, 'valid');
      }),
      { numRuns: 150 },
    );
  });

  void it('resealed mutations of the manifest and header fields reach the deeper checks', async () => {
    const parts = splitPackage(valid);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const manifest = mutate(parts.manifest, m);
        seen.add(await outcome(assemble({ ...parts, manifest })));
      }),
      { numRuns: 150 },
    );
    assert.ok(seen.size >= 2, [...seen].join());
  });

  void it('database mutations with consistent hashes never crash SQLite or the verifier', async () => {
    const parts = splitPackage(valid);
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        await outcome(withDatabase(valid, mutate(parts.database, m)));
      }),
      { numRuns: 60 },
    );
  });

  void it('truncation at every offset of the header, manifest and trailer, and sampled elsewhere', async () => {
    for (const base of [valid, signed]) {
      const manifestEnd = 128 + base.readUInt32LE(16);
      const offsets = new Set<number>();
      for (let i = 0; i <= manifestEnd + 64; i++) offsets.add(i);
      for (let i = manifestEnd; i < base.length; i += 997) offsets.add(i);
      for (let i = Math.max(0, base.length - 200); i < base.length; i++) offsets.add(i);
      for (const n of offsets) {
        assert.equal(await outcome(base.subarray(0, n)), 'TRUNCATED', `cut at ${n}`);
      }
    }
  });
});
