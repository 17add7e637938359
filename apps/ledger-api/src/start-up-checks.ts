import { existsSync, mkdirSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openEventStore } from '@app/event-store';
import { ConfigError, type LedgerConfig } from '@app/ledger';
import { openReadStore } from '@app/projections';

/** Kernel file systems hold no files of ours; naming one is a mistake worth saying so. */
const KERNEL_FILE_SYSTEMS = ['/proc', '/sys', '/dev'];

/**
 * What the server needs before Nest starts, each failure a ConfigError naming the variable behind it (the README's
 * promise: one line, exit 1, no stack): every folder it writes exists or can be made and can be written, and the
 * event store and read store can be opened and reached.
 */
export async function checkStartUp(config: LedgerConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const [folder, variable] of writtenFolders(config, env)) ensureWritableFolder(folder, variable);
  await reach('LEDGER_EVENT_STORE', () => openEventStore(config.eventStore));
  await reach('LEDGER_READ_STORE', () => openReadStore(config.readStore));
}

/** The folders the server writes, each with the variable that chose it. */
function writtenFolders(config: LedgerConfig, env: NodeJS.ProcessEnv): Map<string, string> {
  const folders = new Map<string, string>();
  const dataDirFrom = env.LEDGER_DATA_DIR ? 'LEDGER_DATA_DIR' : config.eventStore.kind === 'sqlite' ? 'LEDGER_EVENT_STORE' : 'LEDGER_DATA_DIR';
  if (config.eventStore.kind === 'sqlite') folders.set(dirname(config.eventStore.path), 'LEDGER_EVENT_STORE');
  if (config.readStore.kind === 'sqlite' && !folders.has(dirname(config.readStore.path))) {
    folders.set(dirname(config.readStore.path), env.LEDGER_READ_STORE ? 'LEDGER_READ_STORE' : config.eventStore.kind === 'sqlite' ? 'LEDGER_EVENT_STORE' : 'LEDGER_DATA_DIR');
  }
  if (!folders.has(config.dataDir)) folders.set(config.dataDir, dataDirFrom);
  return folders;
}

/**
 * Makes the folder's missing parts one at a time, then writes and removes a probe file. `mkdir -p` is not used: under
 * /proc Node's recursive mkdir never returns (it spins at full CPU), while a plain mkdir fails at once.
 */
export function ensureWritableFolder(folder: string, variable: string): void {
  const missing: string[] = [];
  let existing = folder;
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.unshift(existing);
    existing = dirname(existing);
  }
  const refuse = (reason: string): never => {
    throw new ConfigError(variable, `names the folder ${folder}, ${reason}${kernelNote(existing)}`);
  };
  if (!statSync(existing).isDirectory()) refuse(`but ${existing} is a file, not a folder`);
  for (const part of missing) {
    try {
      mkdirSync(part);
    } catch (error) {
      refuse(`which cannot be created (${codeOf(error)} making ${part})`);
    }
  }
  const probe = join(folder, `.ledger-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    refuse(`which this process (user id ${process.getuid?.() ?? 'unknown'}) cannot write (${codeOf(error)}): give it a folder it owns`);
  }
}

function kernelNote(existing: string): string {
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // The folder as given is as good for the note.
  }
  const root = KERNEL_FILE_SYSTEMS.find((prefix) => real === prefix || real.startsWith(`${prefix}/`));
  return root === undefined ? '' : `; ${root} is a kernel file system, not a disk`;
}

async function reach(variable: string, open: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  let store: { close(): Promise<void> };
  try {
    store = await open();
  } catch (error) {
    throw new ConfigError(variable, `names a store that cannot be opened or reached: ${firstLine(error)}`);
  }
  await store.close();
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : firstLine(error);
}

/** Driver messages can run over several lines (gRPC's resolution notes); one line is what start-up promises. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.replace(/\s*Resolution note:\s*$/, '').trim();
}
