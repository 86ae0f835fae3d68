// npm run import -- text|audio ... : imports a translation (JSON or USFM) or a folder of chapter
// audio with verse timings, straight into Postgres and the object store (like the seed).
// Reads DATABASE_URL, S3_* and (optionally) REDIS_URL from the environment or .stack/stack.env.
// Idempotent: a rerun with the same input changes nothing.
import { Command, Option } from 'commander';
import { ConfigError, databaseEnv, parseConfig, s3Env } from '@bible/common/config/env';
import { loadStackEnv } from '../lib/stack-env';
import { importAudio } from './audio-import';
import { progress } from './progress';
import { importText, type VersionOptions } from './text-import';

const idPattern = /^[A-Za-z0-9._-]{1,64}$/;
const id = (what: string) => (value: string) => {
  if (!idPattern.test(value)) throw new Error(`${what} must be 1-64 characters of [A-Za-z0-9._-]`);
  return value;
};

interface Common extends VersionOptions {
  progress?: boolean;
}

function commonOptions(command: Command): Command {
  return command
    .option('--name <name>', 'display name (required when the version is new)')
    .option(
      '--language <id>',
      'language entity id (required when the version is new)',
      id('--language'),
    )
    .option('--language-name <name>', 'create or rename the language with this name')
    .option('--iso639-3 <code>', 'ISO 639-3 code of a language being created')
    .option(
      '--bible-version <id>',
      'Bible structure the version follows',
      id('--bible-version'),
      'protestant',
    )
    .option('--publish', 'publish the version (and, for audio, its files); default: drafts')
    .option('--user <id>', 'recorded as the author in change_log', 'import')
    .option('--no-progress', 'plain log lines instead of progress bars');
}

async function main(): Promise<void> {
  loadStackEnv();
  const program = new Command('import').description('Import Bible text or audio into the catalog');

  commonOptions(
    program
      .command('text')
      .description('Import a text version from Bible JSON (optionally .gz) and/or USFM files')
      .argument('<files...>', 'input files (one USFM book per file; JSON may hold many books)')
      .requiredOption('--text-version <id>', 'text version id', id('--text-version'))
      .option('--source <text>', 'where the text comes from (licence, edition)')
      .addOption(
        new Option('--format <format>', 'input format (default: from the extension)').choices([
          'json',
          'usfm',
        ]),
      ),
  ).action(
    async (
      files: string[],
      o: Common & { textVersion: string; source?: string; format?: 'json' | 'usfm' },
    ) => {
      const config = parseConfig({ DATABASE_URL: databaseEnv.DATABASE_URL });
      const summary = await importText({
        ...o,
        files,
        databaseUrl: config.DATABASE_URL,
        redisUrl: process.env.REDIS_URL,
        progress: progress(o.progress !== false && process.stderr.isTTY === true),
      });
      const t = summary.verseTexts;
      console.log(
        `text version ${o.textVersion}: ${summary.books} books, ${summary.verses} verses read; ` +
          `version ${summary.textVersion}; verse texts +${t.inserted} ~${t.updated} -${t.deleted}; ` +
          `structure +${summary.added.books} books +${summary.added.chapters} chapters +${summary.added.verses} verses` +
          (t.inserted + t.updated + t.deleted === 0 && summary.textVersion === 'unchanged'
            ? ' (nothing to change)'
            : ''),
      );
    },
  );

  commonOptions(
    program
      .command('audio')
      .description(
        'Import a folder of chapter audio files (e.g. Titus_001.mp3) and their verse timings',
      )
      .requiredOption('--audio-version <id>', 'audio version id', id('--audio-version'))
      .requiredOption('--dir <folder>', 'folder with one .mp3/.m4a per chapter')
      .option('--timings <file>', 'CSV (file,verse,start,end) or JSON rows with a file field')
      .option('--object-prefix <prefix>', 'object key prefix', 'media/'),
  ).action(
    async (
      o: Common & { audioVersion: string; dir: string; timings?: string; objectPrefix: string },
    ) => {
      if (!/^([A-Za-z0-9._-]+\/)+$/.test(o.objectPrefix)) {
        throw new Error('--object-prefix must be path segments ending in "/", e.g. media/');
      }
      const config = parseConfig({ DATABASE_URL: databaseEnv.DATABASE_URL, ...s3Env });
      const summary = await importAudio({
        ...o,
        databaseUrl: config.DATABASE_URL,
        redisUrl: process.env.REDIS_URL,
        s3: config,
        progress: progress(o.progress !== false && process.stderr.isTTY === true),
      });
      const t = summary.timings;
      console.log(
        `audio version ${o.audioVersion}: ${summary.files} files; version ${summary.audioVersion}; ` +
          `${summary.uploaded} uploaded; media files ${summary.mediaFiles.written} written, ` +
          `${summary.mediaFiles.unchanged} unchanged; timings +${t.inserted} ~${t.updated} -${t.deleted}`,
      );
    },
  );

  await program.parseAsync();
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  console.error(`import failed: ${message}`);
  process.exitCode = 1;
});
