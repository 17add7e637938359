import { closeSync, existsSync, mkdtempSync, openSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../cli-errors';

/** Where the incident scenario plays: its event store, and its read models beside it. */
export interface ScenarioStore {
  readonly path: string;
  readonly readStorePath: string;
  readonly folder: string;
  /** A temporary folder the command made, removed when it ends. */
  readonly temporary: boolean;
}

const SQLITE_HEADER = 'SQLite format 3\u0000';

/** Refuses anything but a missing file, an empty file, or a SQLite file (whose events are checked once it is open). */
function requireFreshFile(path: string, option: string): void {
  if (!existsSync(path)) return;
  const stats = statSync(path);
  if (!stats.isFile()) throw new UsageError(`${option} ${path} is not a file`);
  if (stats.size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) throw new UsageError(`${option} ${path} exists and is not a SQLite ledger; give a new file`);
}

/**
 * `--store PATH`: that file (the read models go to PATH's name with `.read-models.db`, which must not hold anything
 * yet either). Without it: a new temporary folder.
 */
export function prepareScenarioStore(storeOption: string | undefined): ScenarioStore {
  if (storeOption === undefined) {
    const folder = mkdtempSync(join(tmpdir(), 'ledger-incident-'));
    return { path: join(folder, 'ledger.db'), readStorePath: join(folder, 'read-models.db'), folder, temporary: true };
  }
  const path = resolve(storeOption);
  requireFreshFile(path, '--store');
  const folder = dirname(path);
  const readStorePath = join(folder, `${basename(path, extname(path))}.read-models.db`);
  if (existsSync(readStorePath) && statSync(readStorePath).size > 0) {
    throw new UsageError(`${readStorePath} (the read models beside --store ${path}) already exists; remove it or choose another --store`);
  }
  return { path, readStorePath, folder, temporary: false };
}
