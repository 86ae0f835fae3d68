import Database from 'better-sqlite3';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyDelta, createDeltaPackage, diffPackages } from './delta';
import { PackageType } from './header';
import { openPackage, verifyPackage } from './reader';
import { createKeyring, generateSigningKeyPair } from './signing';
import {
  buildSampleDatabase,
  sampleAudioBytes,
  sampleAudioEntry,
  sampleManifestInput,
} from './test-support/fixtures';
import { CLI, expectCode, makeTempDir } from './test-support/helpers';
import { writePackageToFile } from './writer';

const keys = generateSigningKeyPair();
const signingKey = { keyId: 'delta-test', privateKey: keys.privateKeyPem };

interface Revision {
  packageId: string;
  revision: string;
  /** Audio bytes per chapter file (missing chapter = no file). */
  audio: Map<number, Buffer>;
  edit?: (db: Database.Database) => void;
}

/** A full combined package of John 1-4 at one revision. */
async function buildFull(dir: string, r: Revision): Promise<string> {
  const dbPath = path.join(dir, `${r.packageId}.sqlite`);
  buildSampleDatabase(dbPath, {
    packageId: r.packageId,
    packageType: PackageType.Combined,
    contentRevision: r.revision,
    syncCursor: `cursor-${r.revision}`,
    chapters: 4,
  });
  if (r.edit) {
    const db = new Database(dbPath);
    r.edit(db);
    db.close();
  }
  const audio = [...r.audio.entries()].map(([chapter, bytes]) => {
    const file = path.join(dir, `${r.packageId}-${chapter}.mp3`);
    fs.writeFileSync(file, bytes);
    return { entry: sampleAudioEntry(`john-${chapter}.mp3`, chapter), source: file };
  });
  const out = path.join(dir, `${r.packageId}.bible`);
  await writePackageToFile(
    {
      manifest: sampleManifestInput(r.packageId, PackageType.Combined, {
        contentRevision: r.revision,
        syncCursor: `cursor-${r.revision}`,
      }),
      databasePath: dbPath,
      audio,
      signingKey,
    },
    out,
  );
  return out;
}

const chapterAudio = (sizes: number[], seed = 1) =>
  new Map(sizes.map((n, i) => [i + 1, sampleAudioBytes(n, seed + i)]));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

void describe('delta packages', () => {
  const tmp = makeTempDir('pf-delta-');
  after(() => tmp.cleanup());
  const p = (name: string) => path.join(tmp.dir, name);
  let base: string;
  let target: string;
  let other: string;
  let delta: string;

  before(async () => {
    const audio = chapterAudio([3000, 2000, 2500, 1000]);
    base = await buildFull(tmp.dir, { packageId: 'swh-r1', revision: 'r1', audio });
    // r2: chapter 2 re-recorded, chapter 4's media file deleted, two verse texts edited, a tag
    // renamed and one new chapter-level target.
    const audio2 = new Map(audio);
    audio2.set(2, sampleAudioBytes(2100, 99));
    audio2.delete(4);
    target = await buildFull(tmp.dir, {
      packageId: 'swh-r2',
      revision: 'r2',
      audio: audio2,
      edit: (db) => {
        db.prepare(
          "UPDATE package_verse_texts SET verse_text = 'Changed', updated_at = 'x' WHERE id IN ('vt-john-1-1', 'vt-john-3-2')",
        ).run();
        db.prepare("UPDATE package_tags SET value = 'B' WHERE id = 'tag-1'").run();
        db.prepare(
          "DELETE FROM package_media_files_verses WHERE media_file_id = 'mf-john-4'",
        ).run();
        db.prepare("DELETE FROM package_media_files WHERE id = 'mf-john-4'").run();
        db.prepare(
          `INSERT INTO package_media_files_targets (id, media_file_id, is_bible_audio, target_type, target_id, created_at, updated_at)
           VALUES ('mftg-2', 'mf-john-2', 1, 'chapter', 'john-2', 'x', 'x')`,
        ).run();
      },
    });
    other = await buildFull(tmp.dir, {
      packageId: 'other-r1',
      revision: 'r1',
      audio: chapterAudio([10, 20], 7),
    });
    delta = p('swh-r2-from-r1.bible');
    await createDeltaPackage({
      basePath: base,
      targetPath: target,
      outputPath: delta,
      signingKey,
    });
  });

  void it('carries only changed rows, deletions and new audio, and verifies as a signed delta', async () => {
    const keyring = createKeyring({ [signingKey.keyId]: keys.publicKeyPem });
    const report = await verifyPackage(delta, { keyring });
    assert.ok(report.header.delta);
    assert.deepEqual(
      report.manifest.audioFileIndex.map((e) => e.fileName),
      ['john-2.mp3'],
    );
    assert.equal(report.manifest.delta?.basePackageId, 'swh-r1');
    assert.equal(report.manifest.delta?.targetPackageId, 'swh-r2');
    assert.equal(report.manifest.delta?.targetAudioFileIndex?.length, 3);
    const reader = await openPackage(delta);
    const opened = await reader.openDatabase();
    try {
      const count = (sql: string) => Number(opened.db.prepare(sql).pluck().get());
      assert.equal(count('SELECT count(*) FROM package_verse_texts'), 2);
      assert.equal(count('SELECT count(*) FROM package_tags'), 1);
      assert.equal(count('SELECT count(*) FROM package_verses'), 0);
      assert.equal(count('SELECT count(*) FROM package_media_files_targets'), 1);
      assert.equal(
        count(
          "SELECT count(*) FROM package_deletions WHERE table_name = 'package_media_files' AND record_id = 'mf-john-4'",
        ),
        1,
      );
      assert.equal(
        count(
          "SELECT count(*) FROM package_deletions WHERE table_name = 'package_media_files_verses'",
        ),
        3,
      );
    } finally {
      await opened.close();
      await reader.close();
    }
    assert.equal(report.layout.audioLength, 2100);
  });

  void it('apply gives a package with the rows and audio files of the full target', async () => {
    const out = p('applied.bible');
    const result = await applyDelta({
      basePath: base,
      deltaPath: delta,
      outputPath: out,
      publicKey: keys.publicKeyPem,
    });
    assert.equal(result.packageId, 'swh-r2');
    assert.equal(result.contentRevision, 'r2');
    assert.equal(result.syncCursor, 'cursor-r2');
    assert.equal(result.deltaFiles, 1);
    assert.equal(result.reusedFiles, 2);
    await verifyPackage(out);
    const d = await diffPackages(out, target);
    assert.deepEqual(d, { ...d, identical: true, manifest: [], tables: [] });
    // And it really compares: against the base, everything that changed shows up.
    const back = await diffPackages(base, out);
    assert.equal(back.identical, false);
    assert.deepEqual(back.audio, {
      added: [],
      removed: ['john-4.mp3'],
      changed: ['john-2.mp3'],
    });
    const texts = back.tables.find((t) => t.table === 'package_verse_texts');
    assert.deepEqual(texts?.examples.changed, ['vt-john-1-1', 'vt-john-3-2']);
    const media = back.tables.find((t) => t.table === 'package_media_files');
    assert.deepEqual(media?.examples.removed, ['mf-john-4']);
    assert.ok(back.manifest.some((m) => m.field === 'contentRevision'));
  });

  void it('a package applied from a delta takes the next delta by its rows', async () => {
    // The client applied r1 -> r2 itself; the server's next delta is built against its own full
    // r2 (other bytes, same rows), so only the rows hash can match the client's file.
    const applied = p('chain-r2.bible');
    await applyDelta({ basePath: base, deltaPath: delta, outputPath: applied });
    const r3Audio = chapterAudio([3000, 2000, 2500], 1);
    r3Audio.set(2, sampleAudioBytes(2100, 99));
    r3Audio.set(3, sampleAudioBytes(900, 5));
    const r3 = await buildFull(tmp.dir, {
      packageId: 'swh-r3',
      revision: 'r3',
      audio: r3Audio,
      edit: (db) => {
        db.prepare(
          "UPDATE package_verse_texts SET verse_text = 'Changed' WHERE id IN ('vt-john-1-1', 'vt-john-3-2', 'vt-john-2-2')",
        ).run();
        db.prepare("UPDATE package_tags SET value = 'B' WHERE id = 'tag-1'").run();
        db.prepare(
          "DELETE FROM package_media_files_verses WHERE media_file_id = 'mf-john-4'",
        ).run();
        db.prepare("DELETE FROM package_media_files WHERE id = 'mf-john-4'").run();
        db.prepare(
          `INSERT INTO package_media_files_targets (id, media_file_id, is_bible_audio, target_type, target_id, created_at, updated_at)
           VALUES ('mftg-2', 'mf-john-2', 1, 'chapter', 'john-2', 'x', 'x')`,
        ).run();
      },
    });
    const next = p('swh-r3-from-r2.bible');
    await createDeltaPackage({ basePath: target, targetPath: r3, outputPath: next, signingKey });
    assert.notEqual(
      (await openPackage(applied)).header.contentSha256,
      (await openPackage(target)).header.contentSha256,
    );
    const out = p('chain-r3.bible');
    const result = await applyDelta({
      basePath: applied,
      deltaPath: next,
      outputPath: out,
      publicKey: keys.publicKeyPem,
    });
    assert.equal(result.packageId, 'swh-r3');
    assert.equal((await diffPackages(out, r3)).identical, true);
    // Same id and revision but other rows: refused.
    const edited = p('chain-r2-edited.bible');
    const reader = await openPackage(applied);
    const opened = await reader.openDatabase();
    const dbCopy = p('chain-edited.sqlite');
    fs.copyFileSync(opened.path, dbCopy);
    await opened.close();
    const db = new Database(dbCopy);
    db.prepare(
      "UPDATE package_verse_texts SET verse_text = 'Other' WHERE id = 'vt-john-2-1'",
    ).run();
    db.close();
    const m = reader.manifest;
    await writePackageToFile(
      {
        manifest: sampleManifestInput('swh-r2', PackageType.Combined, {
          contentRevision: m.contentRevision,
          syncCursor: m.syncCursor,
        }),
        databasePath: dbCopy,
        audio: m.audioFileIndex.map((e) => ({
          entry: { ...sampleAudioEntry(e.fileName, 1), mediaFileId: e.mediaFileId },
          source: applied,
          offset: reader.layout.audioOffset + e.offset,
          size: e.size,
        })),
      },
      edited,
    );
    await reader.close();
    await expectCode(
      applyDelta({ basePath: edited, deltaPath: next, outputPath: p('x7.bible') }),
      'DELTA_BASE_MISMATCH',
    );
  });

  void it('refuses a foreign base, a wrong key and tampered base audio', async () => {
    await expectCode(
      applyDelta({ basePath: other, deltaPath: delta, outputPath: p('x1.bible') }),
      'DELTA_BASE_MISMATCH',
    );
    await expectCode(
      applyDelta({ basePath: target, deltaPath: delta, outputPath: p('x2.bible') }),
      'DELTA_BASE_MISMATCH',
    );
    await expectCode(
      applyDelta({ basePath: base, deltaPath: base, outputPath: p('x3.bible') }),
      'DELTA_INVALID',
    );
    await expectCode(
      applyDelta({
        basePath: base,
        deltaPath: delta,
        outputPath: p('x4.bible'),
        publicKey: generateSigningKeyPair().publicKeyPem,
      }),
      'SIGNATURE_INVALID',
    );
    // Flip one byte of a reused audio file in a copy of the base: header and hash stay as they
    // were, so only the per-file check against the delta's target index can catch it.
    const bad = p('base-tampered.bible');
    fs.copyFileSync(base, bad);
    const r = await openPackage(bad);
    const at = r.layout.audioOffset + r.manifest.audioFileIndex[0].offset + 10;
    await r.close();
    const fd = fs.openSync(bad, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    await expectCode(
      applyDelta({ basePath: bad, deltaPath: delta, outputPath: p('x5.bible') }),
      'AUDIO_FILE_HASH_MISMATCH',
    );
    await expectCode(
      applyDelta({ basePath: bad, deltaPath: delta, outputPath: p('x6.bible'), verifyBase: true }),
      'CONTENT_HASH_MISMATCH',
    );
    for (const f of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']) {
      assert.equal(fs.existsSync(p(`${f}.bible`)), false, `${f} left no output`);
    }
  });

  void it('CLI: apply, then diff exits 0 against the target and 1 against the base', () => {
    const keyFile = p('delta-test.public.pem');
    fs.writeFileSync(keyFile, keys.publicKeyPem);
    const applied = p('cli-applied.bible');
    const a = run('apply', base, delta, '-o', applied, '--public-key', keyFile);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /wrote .*swh-r2 at r2/);
    const same = run('diff', applied, target);
    assert.equal(same.status, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /^identical/);
    const differ = run('diff', base, applied);
    assert.equal(differ.status, 1);
    assert.match(differ.stdout, /table package_verse_texts: \+0 -0 ~2/);
    assert.match(differ.stdout, /audio - john-4\.mp3/);
    const json = run('diff', base, applied, '--json');
    assert.equal(json.status, 1);
    assert.equal((JSON.parse(json.stdout) as { identical: boolean }).identical, false);
    const mismatch = run('apply', other, delta, '-o', p('cli-x.bible'));
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /DELTA_BASE_MISMATCH/);
    const d2 = p('cli-delta.bible');
    const made = run('delta', base, target, '-o', d2, '--json');
    assert.equal(made.status, 0, made.stderr);
    assert.equal((JSON.parse(made.stdout) as { deltaFiles: number }).deltaFiles, 1);
  });
});
