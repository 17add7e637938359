/**
 * Crash cycles (issue 15, part 4): the built API under concurrent commands, killed with SIGKILL at a random moment,
 * restarted, and checked. Every command carries an Idempotency-Key, so after the restart the commands whose answer
 * was lost in the kill are sent again: each must then be answered (201 if it never committed, 200 if it did), and
 * each command's events must be in the log exactly once. After each cycle: nothing acknowledged is lost, nothing is
 * duplicated, every balance equals what the acknowledged deposits and withdrawals make it (never negative), and the
 * CLI's `verify` and `reconcile` pass. On PostgreSQL two API processes share the database and either may be killed.
 *
 * Used by `npm run torture` (tools/torture/main.ts) and, with a few cycles, by apps/ledger-api/test/torture.e2e-spec.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPostgresServer, POSTGRES_TEST_URL } from '../../libs/event-store/src/testing/postgres-test-database';
import { Prng } from '../../libs/incident-scenario/src/prng';
import { startServer, type ServerProcess } from '../../apps/ledger-api/test/support/server-process';
import { runCli } from '../../apps/ledger-cli/test/support/cli-process';

const KEYS = { service: 'torture-service-key-0123456789abcdef', admin: 'torture-admin-key-0123456789abcdef00', auditor: 'torture-auditor-key-0123456789abcdef' };
const ADDRESS = '0xA11CE00000000000000000000000000000000001';
const ACCOUNTS = 6;
const WEI = 10n ** 18n;
const IN_FLIGHT = 12;

export interface CrashCycleOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly cycles: number;
  readonly seed: number;
  readonly log?: (line: string) => void;
}

export interface CrashCycleReport {
  readonly store: string;
  readonly cycles: number;
  readonly commandsAcknowledged: number;
  /** Commands whose answer the kill swallowed, sent again after the restart. */
  readonly commandsRetried: number;
  /** Of those, how many had committed before the kill (answered 200 on the retry). */
  readonly retriesFoundCommitted: number;
  readonly events: number;
  readonly elapsedMs: number;
}

/** A running API process; `killed` is set just before its SIGKILL, so that no new command goes to it. */
type Api = ServerProcess & { killed?: boolean };

async function startApi(env: Record<string, string>): Promise<Api> {
  return startServer({ ...env, LEDGER_LOG_LEVEL: 'warn' }, 30_000);
}

async function kill(api: Api): Promise<void> {
  api.killed = true;
  api.child.kill('SIGKILL');
  await api.exited;
}

const CLI_TIMEOUT_MS = 60_000;

interface Command {
  readonly key: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly role: 'service' | 'admin';
  /** What the command changes, once acknowledged: an account's ETH deposits or withdrawals, in wei. */
  readonly effect: { accountId: string; depositedWei: bigint; heldWei: bigint } | null;
}

type Answer = { kind: 'answered'; status: number; body: any } | { kind: 'lost' };

async function send(url: string, command: Command): Promise<Answer> {
  try {
    const response = await fetch(`${url}/v1${command.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[command.role]}`, 'idempotency-key': command.key },
      body: JSON.stringify(command.body),
      signal: AbortSignal.timeout(20_000),
    });
    return { kind: 'answered', status: response.status, body: await response.json() };
  } catch {
    return { kind: 'lost' };
  }
}

/** What the checks hold against: every command acknowledged so far, and the balances they make. */
class Ledger {
  readonly acknowledged = new Map<string, string[]>();
  readonly depositedWei = new Map<string, bigint>();
  readonly heldWei = new Map<string, bigint>();
  retried = 0;
  retriesFoundCommitted = 0;

  acknowledge(command: Command, answer: Answer & { kind: 'answered' }): void {
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`${command.path} ${JSON.stringify(command.body)} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    if (this.acknowledged.has(command.key)) {
      if (JSON.stringify(this.acknowledged.get(command.key)) !== JSON.stringify(answer.body.eventIds)) throw new Error(`${command.key} answered with other events on a repeat`);
      return;
    }
    this.acknowledged.set(command.key, answer.body.eventIds);
    if (command.effect) {
      const { accountId, depositedWei, heldWei } = command.effect;
      this.depositedWei.set(accountId, (this.depositedWei.get(accountId) ?? 0n) + depositedWei);
      this.heldWei.set(accountId, (this.heldWei.get(accountId) ?? 0n) + heldWei);
    }
  }
}

function setupCommands(): Command[] {
  const commands: Command[] = [
    { key: 'setup-2fa-policy', path: '/platform/second-factor-policy', body: { required: false, mfaThresholdUsd: null }, role: 'admin', effect: null },
    { key: 'setup-hold', path: '/platform/withdrawal-policy', body: { newAddressHoldHours: 0 }, role: 'admin', effect: null },
  ];
  for (let i = 0; i < ACCOUNTS; i++) {
    const accountId = `t-${i}`;
    commands.push(
      { key: `setup-open-${i}`, path: '/accounts', body: { accountId }, role: 'service', effect: null },
      { key: `setup-token-${i}`, path: `/accounts/${accountId}/two-factor-tokens`, body: { tokenId: 'tok-1', method: 'totp' }, role: 'service', effect: null },
      { key: `setup-address-${i}`, path: `/accounts/${accountId}/whitelisted-addresses`, body: { asset: 'ETH', address: ADDRESS }, role: 'service', effect: null },
      // A float, so that a withdrawal never waits on the same cycle's deposits.
      { key: `setup-deposit-${i}`, path: `/accounts/${accountId}/deposits`, body: { depositId: 'float', asset: 'ETH', amount: '1' }, role: 'service', effect: { accountId, depositedWei: WEI, heldWei: 0n } },
    );
  }
  return commands;
}

const eth = (wei: bigint) => {
  const whole = wei / WEI;
  const fraction = (wei % WEI).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
};

/** One cycle's load: deposits and withdrawal requests, small enough that a withdrawal never outruns its deposits. */
function cycleCommands(cycle: number, random: () => number, count: number): Command[] {
  const commands: Command[] = [];
  for (let n = 0; n < count; n++) {
    const accountId = `t-${Math.floor(random() * ACCOUNTS)}`;
    const key = `c${cycle}-${n}`;
    if (n % 3 === 2) {
      // A withdrawal of 0.001 ETH: each account has a float of 1 ETH and 1 ETH more per cycle, so a refusal for lack
      // of funds would be a defect (the harness fails on any answer but 200 and 201).
      commands.push({
        key, path: `/accounts/${accountId}/withdrawals`, role: 'service',
        body: { withdrawalId: key, asset: 'ETH', amount: '0.001', address: ADDRESS, twoFactorTokenId: 'tok-1' },
        effect: { accountId, depositedWei: 0n, heldWei: WEI / 1000n },
      });
    } else {
      const wei = WEI + BigInt(Math.floor(random() * 1_000_000));
      commands.push({ key, path: `/accounts/${accountId}/deposits`, role: 'service', body: { depositId: key, asset: 'ETH', amount: eth(wei) }, effect: { accountId, depositedWei: wei, heldWei: 0n } });
    }
  }
  return commands;
}

/**
 * Sends the queue's commands IN_FLIGHT at a time to the given APIs in turn, until the queue is empty or an API is
 * killed (its workers stop taking commands); returns the commands whose answer was lost.
 */
async function drive(apis: Api[], queue: Command[], ledger: Ledger): Promise<Command[]> {
  const lost: Command[] = [];
  const worker = async (w: number) => {
    const api = apis[w % apis.length]!;
    while (queue.length > 0 && !api.killed) {
      const command = queue.shift()!;
      const answer = await send(api.url, command);
      if (answer.kind === 'lost' || answer.status === 503) lost.push(command);
      else ledger.acknowledge(command, answer);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
  return lost;
}

async function checkLog(env: Record<string, string>, apiUrl: string, ledger: Ledger): Promise<number> {
  // Every event id of every acknowledged command is in the log, once; no event id is there twice.
  const exported = await runCli(['export', '--all'], env, { timeoutMs: CLI_TIMEOUT_MS });
  if (exported.code !== 0) throw new Error(`export failed (${exported.code}): ${exported.stderr}`);
  const seen = new Map<string, number>();
  const lines = exported.stdout.split('\n').filter((line) => line.startsWith('{'));
  for (const line of lines) {
    const event = JSON.parse(line) as { eventId?: string };
    if (event.eventId) seen.set(event.eventId, (seen.get(event.eventId) ?? 0) + 1);
  }
  for (const [id, count] of seen) if (count > 1) throw new Error(`event ${id} is in the log ${count} times`);
  for (const [key, eventIds] of ledger.acknowledged) {
    for (const id of eventIds) if (!seen.has(id)) throw new Error(`acknowledged command ${key} lost its event ${id}`);
  }
  for (let i = 0; i < ACCOUNTS; i++) {
    const accountId = `t-${i}`;
    const response = await fetch(`${apiUrl}/v1/accounts/${accountId}/balances`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
    const balances = (await response.json()) as { balances?: Record<string, { available: string; held: string; deposited: string }> };
    const ethBalance = balances.balances?.ETH ?? { available: '0', held: '0', deposited: '0' };
    const toWei = (text: string) => BigInt(text.split('.')[0]!) * WEI + BigInt((text.split('.')[1] ?? '').padEnd(18, '0'));
    const [deposited, held, available] = [toWei(ethBalance.deposited), toWei(ethBalance.held), toWei(ethBalance.available)];
    const expected = { deposited: ledger.depositedWei.get(accountId) ?? 0n, held: ledger.heldWei.get(accountId) ?? 0n };
    if (available < 0n || held < 0n) throw new Error(`negative balance on ${accountId}: ${JSON.stringify(ethBalance)}`);
    if (deposited !== expected.deposited || held !== expected.held) {
      throw new Error(`${accountId} shows deposited ${eth(deposited)} held ${eth(held)}, acknowledged ${eth(expected.deposited)} and ${eth(expected.held)}`);
    }
  }
  for (const check of ['verify', 'reconcile']) {
    const run = await runCli([check, '--json'], env, { timeoutMs: CLI_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`${check} failed (${run.code}): ${run.stdout.slice(-2_000)} ${run.stderr.slice(-2_000)}`);
  }
  return lines.length;
}

/** Waits until the read models show every acknowledged command (the projector runs in the API process). */
async function waitForProjection(apiUrl: string, ledger: Ledger): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let ok = true;
    for (const [accountId, wei] of ledger.depositedWei) {
      const response = await fetch(`${apiUrl}/v1/accounts/${accountId}/balances`, { headers: { authorization: `Bearer ${KEYS.auditor}` } });
      const body = (await response.json()) as { balances?: { ETH?: { deposited: string } } };
      const shown = body.balances?.ETH?.deposited ?? '0';
      if (shown !== eth(wei)) ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the read models did not catch up with the acknowledged commands within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function withStore<T>(options: CrashCycleOptions, run: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-torture-'));
  const base = { LEDGER_DATA_DIR: dir, LEDGER_API_KEYS: Object.entries(KEYS).map(([role, key]) => `${role}=${key}`).join(','), LEDGER_RISK_MONITOR: 'off' };
  if (options.store === 'sqlite') {
    try {
      return await run({ ...base, LEDGER_EVENT_STORE: `sqlite:${join(dir, 'ledger.db')}` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const database = `ledger_torture_${process.pid}_${Date.now()}`;
  await onPostgresServer(`CREATE DATABASE ${database}`);
  const url = new URL(POSTGRES_TEST_URL);
  url.pathname = `/${database}`;
  try {
    return await run({ ...base, LEDGER_EVENT_STORE: url.toString() });
  } finally {
    await onPostgresServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCrashCycles(options: CrashCycleOptions): Promise<CrashCycleReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const prng = new Prng(options.seed);
  const random = () => prng.next();
  const processes = options.store === 'postgres' ? 2 : 1;
  return withStore(options, async (env) => {
    const ledger = new Ledger();
    let apis: Api[] = [];
    for (let p = 0; p < processes; p++) apis.push(await startApi(env));
    // Set-up runs on one process, one command at a time (the platform commands before the account commands).
    for (const command of setupCommands()) {
      const answer = await send(apis[0]!.url, command);
      if (answer.kind === 'lost') throw new Error(`set-up command ${command.key} got no answer`);
      ledger.acknowledge(command, answer);
    }
    let events = 0;
    try {
      for (let cycle = 0; cycle < options.cycles; cycle++) {
        // Deposits first, so that the cycle's withdrawals always have funds (each account gets 1 ETH or more).
        const deposits = Array.from({ length: ACCOUNTS }, (_, i): Command => ({
          key: `c${cycle}-fund-${i}`, path: `/accounts/t-${i}/deposits`, role: 'service', body: { depositId: `c${cycle}-fund-${i}`, asset: 'ETH', amount: '1' },
          effect: { accountId: `t-${i}`, depositedWei: WEI, heldWei: 0n },
        }));
        const commands = [...deposits, ...cycleCommands(cycle, random, 120 + Math.floor(random() * 120))];
        const killAfterMs = 20 + Math.floor(random() * 230);
        const victims = apis.filter((_, p) => p === 0 || random() < 0.5);
        const queue = [...commands];
        const load = drive(apis, queue, ledger);
        await new Promise((resolve) => setTimeout(resolve, killAfterMs));
        await Promise.all(victims.map(kill));
        const lost = await load;
        apis = await Promise.all(apis.map((api) => (victims.includes(api) ? startApi(env) : api)));
        // The commands the kill left unsent go to the restarted processes as ordinary load.
        const inFlightAtKill = lost.length;
        lost.push(...(await drive(apis, queue, ledger)));
        // The answers the kill swallowed: sent again with the same key, each must now be answered, exactly once.
        for (const command of lost) {
          const answer = await send(apis[0]!.url, command);
          if (answer.kind === 'lost') throw new Error(`retry of ${command.key} got no answer`);
          ledger.retried += 1;
          if (answer.status === 200) ledger.retriesFoundCommitted += 1;
          ledger.acknowledge(command, answer);
        }
        await waitForProjection(apis[0]!.url, ledger);
        events = await checkLog(env, apis[0]!.url, ledger);
        log(`${options.store} cycle ${cycle + 1}/${options.cycles}: killed ${victims.length} of ${processes} process(es) after ${killAfterMs} ms with ${inFlightAtKill} answers lost, retried, ${ledger.acknowledged.size} commands acknowledged, ${events} events; verify and reconcile OK`);
      }
    } finally {
      await Promise.all(apis.map(kill));
    }
    return {
      store: options.store, cycles: options.cycles, commandsAcknowledged: ledger.acknowledged.size, commandsRetried: ledger.retried,
      retriesFoundCommitted: ledger.retriesFoundCommitted, events, elapsedMs: Date.now() - started,
    };
  });
}
