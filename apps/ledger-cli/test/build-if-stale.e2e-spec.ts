import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The build helper is plain JavaScript (it runs before anything is compiled).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require('../../../tools/build.js') as { staleReason(root: string): string | null; STAMP: string; ENTRIES: string[] };

/** `npm start` and `npm run ledger` build dist only when a source changed: checked on a project of a few files. */
describe('tools/build.js --if-stale', () => {
  let root: string;
  const write = (path: string, text = ''): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const age = (path: string, secondsAgo: number): void => {
    const when = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(root, path), when, when);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ledger-build-'));
    for (const file of ['apps/ledger-api/src/main.ts', 'libs/domain/src/index.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
      write(file, file.endsWith('.json') ? '{}' : '');
      age(file, 60);
    }
    for (const entry of build.ENTRIES) write(entry);
    // The stamp holds the newest source time the last build saw.
    write(build.STAMP, String(Date.now() - 60_000));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds dist fresh when no source changed since the stamp, and stale when one did', () => {
    expect(build.staleReason(root)).toBeNull();
    write('libs/domain/src/index.ts', 'export {};');
    expect(build.staleReason(root)).toBe('sources changed since the last build');
  });

  it('finds dist stale when an entry point or the stamp is missing', () => {
    rmSync(join(root, build.ENTRIES[1]!));
    expect(build.staleReason(root)).toBe(`${build.ENTRIES[1]} is missing`);
    write(build.ENTRIES[1]!);
    rmSync(join(root, build.STAMP));
    expect(build.staleReason(root)).toMatch(/no build stamp/);
  });

  it('does nothing, says nothing and removes nothing on a fresh dist', () => {
    write('tools/build.js');
    copyFileSync(join(__dirname, '../../../tools/build.js'), join(root, 'tools/build.js'));
    write('dist/apps/ledger-api/src/loaded-later.js', 'module.exports = 1;');
    const run = spawnSync(process.execPath, [join(root, 'tools/build.js'), '--if-stale'], { encoding: 'utf8' });
    expect(run).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(build.staleReason(root)).toBeNull();
    expect(require(join(root, 'dist/apps/ledger-api/src/loaded-later.js'))).toBe(1);
  });
});

describe('installing better-sqlite3 from source', () => {
  it('is set where prebuild-install reads it (.prebuild-installrc), not in .npmrc, where npm warns about it', () => {
    const repo = join(__dirname, '../../..');
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')));
    // prebuild-install's own configuration, as the package's install script sees it from its folder.
    const rc = spawnSync(process.execPath, [join(repo, 'node_modules/prebuild-install/rc.js')], { cwd: join(repo, 'node_modules/better-sqlite3'), env, encoding: 'utf8' });
    expect(rc.status).toBe(0);
    expect(JSON.parse(rc.stdout)).toMatchObject({ buildFromSource: true });
    const npm = spawnSync('npm', ['config', 'list'], { cwd: repo, env, encoding: 'utf8' });
    expect(npm.stderr).not.toContain('Unknown project config');
  });
});
