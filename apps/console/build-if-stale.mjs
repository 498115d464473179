// Run before `npm start`: builds the console (vite build) only when its dist is missing or older
// than its sources, so a fresh clone gets a console on first start and later starts cost nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = import.meta.dirname;
const built = join(root, 'dist', 'index.html');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((name) => join(root, name));
const stale = !existsSync(built) || Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs;
if (stale) {
  console.log('console: building apps/console (vite build), once per change of its sources');
  const result = spawnSync(
    process.execPath,
    [join(root, '../../node_modules/vite/bin/vite.js'), 'build', root, '--logLevel', 'warn'],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
