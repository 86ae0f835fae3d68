// npm run seed [-- --migrate] : seeds the WEB Bible, users and a synthetic narration of John.
// Reads DATABASE_URL and S3_* from the environment (or .stack/stack.env). Safe to rerun.
import { Command } from 'commander';
import { ConfigError, databaseEnv, parseConfig, s3Env } from '@bible/common/config/env';
import { loadStackEnv } from '../lib/stack-env';
import { runSeed, type SeedSummary } from './run-seed';

export { runSeed, type SeedOptions, type SeedSummary } from './run-seed';

function printSummary(summary: SeedSummary): void {
  const { counts, changes, audio, objects, timingsMs: t } = summary;
  const written = Object.entries(changes).filter(([, c]) => c.inserted + c.updated > 0);
  console.log('seed complete');
  console.log(
    `  content:  ${counts.books} books, ${counts.chapters} chapters, ${counts.verses} verses, ` +
      `${counts.verseTexts} verse texts`,
  );
  console.log(
    `  audio:    ${counts.mediaFiles} media files (${(audio.bytes / 1e6).toFixed(1)} MB, ` +
      `${(audio.seconds / 60).toFixed(1)} min), ${counts.verseTimings} verse timings`,
  );
  console.log(
    `  files:    ${audio.generated} generated, ${audio.cached} from cache; ` +
      `${objects.uploaded} uploaded, ${objects.unchanged} already stored`,
  );
  console.log(
    written.length === 0
      ? '  rows:     nothing to change'
      : `  rows:     ${written.map(([table, c]) => `${table} +${c.inserted}/~${c.updated}`).join(', ')}`,
  );
  console.log(
    `  time:     ${(t.total / 1000).toFixed(1)} s (load ${t.load} ms, audio ${t.audio} ms, ` +
      `upload ${t.upload} ms, database ${t.database} ms)`,
  );
}

async function main(): Promise<void> {
  const options = new Command('seed')
    .description('Seed the database and object store with the WEB Bible and John narration')
    .option('--migrate', 'apply pending migrations first')
    .option('--data <file>', 'Bible JSON (gzip); default data/bible-web.json.gz')
    .option('--cache-dir <dir>', 'generated audio cache; default .stack/cache/audio')
    .parse()
    .opts<{ migrate?: boolean; data?: string; cacheDir?: string }>();
  loadStackEnv();
  const config = parseConfig({ DATABASE_URL: databaseEnv.DATABASE_URL, ...s3Env });
  const summary = await runSeed({
    databaseUrl: config.DATABASE_URL,
    s3: config,
    migrate: options.migrate,
    dataFile: options.data,
    cacheDir: options.cacheDir,
    log: (message) => console.log(message),
  });
  printSummary(summary);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`seed failed: ${error instanceof ConfigError ? error.message : String(error)}`);
    if (!(error instanceof ConfigError) && error instanceof Error && error.stack) {
      console.error(error.stack.split('\n').slice(1, 4).join('\n'));
    }
    process.exitCode = 1;
  });
}
