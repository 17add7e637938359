#!/usr/bin/env node
'use strict';
/**
 * Builds dist: `node tools/build.js --clean` (npm run build) removes dist first; `node tools/build.js --if-stale`
 * (npm start, npm run ledger) builds only when a source changed since the last build, and never removes a file,
 * so a server already running from dist keeps every file it may still load. Plain JavaScript, so that it runs
 * before anything is compiled.
 *
 * The stamp dist/.build-stamp holds the newest source modification time the build saw when it started: a source
 * saved during a build is newer, and the next start builds again. Two starts at once build once: the second waits
 * for the first's lock, then finds dist fresh.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** What the build compiles or is configured by (tsconfig.build.json includes apps/ and libs/; Vite the console). */
const SOURCE_DIRS = ['apps', 'libs'];
const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.css', '.html'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
/** The files `npm start` and `npm run ledger` run: a build without them is no build. */
const ENTRIES = ['dist/apps/ledger-api/src/main.js', 'dist/apps/ledger-cli/src/main.js', 'dist/apps/ledger-bench/src/main.js'];
const STAMP = 'dist/.build-stamp';
const LOCK = '.build-lock';
/** A build takes about 20 s on a busy machine; a lock older than this is from a build that died. */
const LOCK_WAIT_MS = 180_000;

/** The newest modification time (ms) of a TypeScript source or build configuration file. */
function newestSourceMs(root) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension))) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const file of CONFIG_FILES) if (existsSync(join(root, file))) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

/** Why dist must be built again, or null when it is fresh. */
function staleReason(root) {
  const missing = ENTRIES.find((entry) => !existsSync(join(root, entry)));
  if (missing !== undefined) return `${missing} is missing`;
  if (!existsSync(join(root, STAMP))) return 'dist has no build stamp (built by another tool)';
  const built = Number(readFileSync(join(root, STAMP), 'utf8').trim());
  if (!(newestSourceMs(root) <= built)) return 'sources changed since the last build';
  return null;
}

function binOf(root, pkg, name) {
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name];
  return join(root, 'node_modules', pkg, bin);
}

function compile(root) {
  const startedWith = newestSourceMs(root);
  const steps = [
    [binOf(root, 'typescript', 'tsc'), '-p', 'tsconfig.build.json'],
    [binOf(root, 'tsc-alias', 'tsc-alias'), '-p', 'tsconfig.build.json'],
    // The web console, bundled by Vite into dist/console (only that folder is replaced).
    [binOf(root, 'vite', 'vite'), 'build', '--config', 'apps/ledger-console/vite.config.mts'],
  ];
  for (const args of steps) {
    const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  mkdirSync(dirname(join(root, STAMP)), { recursive: true });
  writeFileSync(join(root, STAMP), `${startedWith}\n`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Takes the build lock (a file holding our pid), waiting for a live holder; returns its release. */
function lock(root) {
  const path = join(root, LOCK);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(path, 'utf8'));
    if (!isAlive(holder) || Date.now() > deadline) rmSync(path, { force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

function main(argv) {
  const root = join(__dirname, '..');
  const clean = argv.includes('--clean');
  if (!clean && !argv.includes('--if-stale')) {
    process.stderr.write('usage: node tools/build.js --clean | --if-stale\n');
    process.exit(2);
  }
  if (!clean && staleReason(root) === null) return;
  const release = lock(root);
  try {
    if (clean) rmSync(join(root, 'dist'), { recursive: true, force: true });
    const reason = clean ? null : staleReason(root);
    if (clean || reason !== null) {
      if (reason !== null) process.stderr.write(`building dist: ${reason} (about 20 s)\n`);
      compile(root);
    }
  } finally {
    release();
  }
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { staleReason, newestSourceMs, STAMP, ENTRIES };
