// bible-client: the reference offline client on the command line (docs/client.md).
// Exit codes: 0 ok, 1 the server or a package said no (message says why), 2 usage.
import { Command, CommanderError } from 'commander';
import { OfflineClient } from './client';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface GlobalOptions {
  store: string;
  server?: string;
  token?: string;
  deviceId?: string;
}

/** `col=value` → { col: value }; values are JSON when they parse (numbers, null, true). */
function parseSet(pairs: string[]): Record<string, string | number | boolean | null> {
  const data: Record<string, string | number | boolean | null> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CommanderError(2, 'usage', `--set wants column=value, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: string | number | boolean | null = raw;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed === null || ['number', 'boolean'].includes(typeof parsed))
        value = parsed as number | boolean | null;
    } catch {
      // a plain string
    }
    data[pair.slice(0, eq)] = value;
  }
  return data;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('bible-client')
    .description('Reference offline client: download, verify, import, pull, edit, push, update')
    .option('--store <dir>', 'store folder', process.env.BIBLE_CLIENT_STORE ?? 'bible-store')
    .option('--server <url>', 'gateway URL (env BIBLE_SERVER)', process.env.BIBLE_SERVER)
    .option('--token <jwt>', 'bearer token (env BIBLE_TOKEN)', process.env.BIBLE_TOKEN)
    .option('--device-id <id>', 'device id for sync sessions (default: a generated client id)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const client = () => {
    const o = program.opts<GlobalOptions>();
    return new OfflineClient({
      dir: o.store,
      baseUrl: o.server,
      token: o.token,
      deviceId: o.deviceId,
      log: out,
    });
  };

  program
    .command('download <packageId>')
    .description(
      'download (resuming a partial file) and verify a package; --import makes it the store',
    )
    .option('--import', 'import it once verified')
    .action(async (packageId: string, o: { import?: boolean }) => {
      const c = client();
      const { file, manifest } = await c.download(packageId);
      out(file);
      if (o.import) await c.import(file, manifest);
    });
  program
    .command('import <file>')
    .description('verify a full package (keys from an earlier online run) and make it the store')
    .action(async (file: string) => {
      await client().import(file);
    });
  program
    .command('pull')
    .description('apply the server changes after the store cursor')
    .action(async () => {
      await client().pull();
    });
  program
    .command('edit <table> <recordId>')
    .description('record a local change (offline): --set column=value ..., --delete or --insert')
    .option('--set <column=value...>', 'changed columns (server column names)', [])
    .option('--delete', 'delete the record')
    .option('--insert', 'insert a new record with the --set columns')
    .action(
      (
        table: string,
        recordId: string,
        o: { set: string[]; delete?: boolean; insert?: boolean },
      ) => {
        if (o.delete && o.insert) throw new CommanderError(2, 'usage', '--delete or --insert');
        const operation = o.delete ? 'DELETE' : o.insert ? 'INSERT' : 'UPDATE';
        const data = parseSet(o.set);
        if (operation !== 'DELETE' && Object.keys(data).length === 0)
          throw new CommanderError(2, 'usage', 'nothing to change: pass --set column=value');
        const m = client().edit({ table, recordId, operation, data });
        out(`queued ${m.operation} ${m.table} ${m.recordId} as ${m.mutationId}`);
      },
    );
  program
    .command('push')
    .description('push pending local changes; conflicts are recorded in the store')
    .action(async () => {
      await client().push();
    });
  program
    .command('update')
    .description('ask the server for a newer revision (delta or full) or apply a delta file')
    .option('--file <delta>', 'a delta package received offline (Bluetooth, SD card)')
    .action(async (o: { file?: string }) => {
      const c = client();
      if (o.file) {
        const manifest = await c.applyDeltaFile(o.file);
        out(`now at ${manifest.packageId}`);
        return;
      }
      const result = await c.update();
      if (result.upToDate) out('up to date');
    });
  program
    .command('status')
    .description('the package, cursor, outbox and conflicts of the store (JSON)')
    .action(() => {
      out(JSON.stringify(client().status(), null, 2));
    });

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'usage') process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`bible-client: ${(error as Error).message}\n`);
    return 1;
  }
}
