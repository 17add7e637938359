import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLI_ENTRY = join(__dirname, '../../../../dist/apps/ledger-cli/src/main.js');

/** A run never takes this long; past it the child is killed so that a hung CLI fails the test instead of the suite. */
const CLI_TIMEOUT_MS = 15_000;

export function requireCliBuild(): void {
  if (!existsSync(CLI_ENTRY)) {
    throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first (\`npm test\` does)`);
  }
}

export interface CliRun {
  /** The exit code, or the name of the signal that ended the process. */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Called once the first bytes reach stdout, with the child's pid (to signal it mid-run). */
  readonly onFirstOutput?: (pid: number) => void;
  /** Called with every chunk written to stderr so far (to wait for a message). */
  readonly onStderr?: (stderrSoFar: string) => void;
  /** Milliseconds before the child is killed as hung; CLI_TIMEOUT_MS when absent. */
  readonly timeoutMs?: number;
}

/** A CLI process that is running: its pid, to signal it, and how it ended. */
export interface CliProcess {
  readonly pid: number;
  readonly exited: Promise<CliRun>;
}

/** Starts the built CLI as `npm run ledger -- <args>` runs it, with only the environment given (no LEDGER_* leaks in). */
export function startCli(args: readonly string[], env: Record<string, string>, options: CliRunOptions = {}): CliProcess {
  requireCliBuild();
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    if (stdout.length === 0 && child.pid !== undefined) options.onFirstOutput?.(child.pid);
    stdout.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    options.onStderr?.(Buffer.concat(stderr).toString('utf8'));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CLI_TIMEOUT_MS);
  const exited = new Promise<number | string>((resolve) => child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? -1))).then(
    (code) => {
      clearTimeout(killer);
      return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
    },
  );
  if (child.pid === undefined) throw new Error(`the CLI did not start: ${CLI_ENTRY}`);
  return { pid: child.pid, exited };
}

/** Runs the built CLI to its end. */
export async function runCli(args: readonly string[], env: Record<string, string>, options: CliRunOptions = {}): Promise<CliRun> {
  return startCli(args, env, options).exited;
}
