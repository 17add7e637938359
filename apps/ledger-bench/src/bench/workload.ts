import type { Actor } from '@app/ledger';
import { freshCommand, generateAttester, signProof, verifierFor, type Attester, type Ledger } from '@app/ledger';

/** The bench workload (issue: 500 accounts funded, 10,000 withdrawal requests, round-robin). */
export interface WorkloadSize {
  readonly accounts: number;
  readonly withdrawals: number;
  readonly inFlight: number;
}

export const WORKLOAD: WorkloadSize = { accounts: 500, withdrawals: 10_000, inFlight: 64 };

const SERVICE: Actor = { id: 'bench', role: 'service' };
const ADMIN: Actor = { id: 'bench-admin', role: 'admin' };
export const BENCH_ADDRESS = '0xBE4C000000000000000000000000000000000001';
const TOKEN = 'bench-2fa';
const WITHDRAWAL_AMOUNT = '0.001';

/**
 * The authentication service of the bench: every withdrawal and whitelisting carries a real proof, so the figures
 * include what a production ledger does per command (an Ed25519 verification, the decider's checks of the claims).
 * The ledger under test must trust it (`verifierFor(BENCH_ATTESTER)`).
 */
export const BENCH_ATTESTER: Attester = generateAttester('bench-attester');

/** The proof for withdrawal `withdrawalId` of 0.001 ETH from account `accountIndex`. */
export function withdrawalProof(accountIndex: number, withdrawalId: string): Promise<string> {
  return signProof(BENCH_ATTESTER, {
    accountId: benchAccountId(accountIndex), act: 'withdrawal', tokenId: TOKEN, amr: ['totp'],
    withdrawalId, asset: 'ETH', amount: WITHDRAWAL_AMOUNT, address: BENCH_ADDRESS, ttlSeconds: 300,
  });
}

/**
 * The proofs of a phase, signed before it starts: the customer's side (entering the factor, the authentication
 * service signing) is not the ledger's work, so it stays out of the measured time. Signed `inFlight` at a time.
 */
export async function presignWithdrawals(size: WorkloadSize, idPrefix: string): Promise<string[]> {
  const proofs = new Array<string>(size.withdrawals);
  await runPool(size.withdrawals, 64, async (i) => {
    proofs[i] = await withdrawalProof(i % size.accounts, `${idPrefix}-${i}`);
  });
  return proofs;
}

export function benchAccountId(index: number): string {
  return `bench-${String(index).padStart(5, '0')}`;
}

/** Runs task(0..count-1) with at most `inFlight` pending at once; returns how many were refused (threw). */
export async function runPool(count: number, inFlight: number, task: (index: number) => Promise<unknown>, onDone?: (done: number) => void): Promise<number> {
  let next = 0;
  let done = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      try {
        await task(index);
      } catch {
        failed += 1;
      }
      done += 1;
      onDone?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, () => worker()));
  return failed;
}

/** Hold policy 0, then each account opened, funded with ETH, a 2FA token enrolled and an address whitelisted. */
export async function setUpAccounts(ledger: Ledger, accounts: number, onDone?: (done: number) => void): Promise<void> {
  await ledger.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }, freshCommand(ADMIN));
  const failed = await runPool(accounts, 64, async (i) => {
    const accountId = benchAccountId(i);
    await ledger.executeAccount(accountId, { type: 'OpenAccount', data: { accountId } }, freshCommand(SERVICE));
    await ledger.executeAccount(accountId, { type: 'DepositFunds', data: { depositId: 'bench-d1', asset: 'ETH', amount: '1000' } }, freshCommand(SERVICE));
    await ledger.executeAccount(accountId, { type: 'EnrolTwoFactor', data: { tokenId: TOKEN, method: 'totp' } }, freshCommand(SERVICE));
    const secondFactor = await signProof(BENCH_ATTESTER, { accountId, act: 'whitelist', tokenId: TOKEN, amr: ['totp'], asset: 'ETH', address: BENCH_ADDRESS });
    await ledger.executeAccount(accountId, { type: 'WhitelistAddress', data: { asset: 'ETH', address: BENCH_ADDRESS, secondFactor } }, freshCommand(SERVICE));
  }, onDone);
  if (failed > 0) throw new Error(`bench: ${failed} of ${accounts} accounts could not be set up`);
}

/**
 * One withdrawal request of 0.001 ETH through the real handler (verify the proof, load, decide against the balance
 * and the claims, append).
 */
export function requestWithdrawal(ledger: Ledger, accountIndex: number, withdrawalId: string, secondFactor: string): Promise<unknown> {
  return ledger.executeAccount(
    benchAccountId(accountIndex),
    { type: 'RequestWithdrawal', data: { withdrawalId, asset: 'ETH', amount: WITHDRAWAL_AMOUNT, address: BENCH_ADDRESS, twoFactorTokenId: TOKEN, secondFactor } },
    freshCommand(SERVICE),
  );
}

export interface PhaseResult {
  readonly commands: number;
  readonly refused: number;
  readonly seconds: number;
  readonly perSecond: number;
}

function phase(commands: number, refused: number, startedMs: number): PhaseResult {
  const seconds = (performance.now() - startedMs) / 1_000;
  return { commands, refused, seconds, perSecond: seconds > 0 ? Math.round(commands / seconds) : 0 };
}

/** Withdrawal requests awaited one after another, round-robin over the accounts. */
export async function sequentialPhase(ledger: Ledger, size: WorkloadSize, onDone?: (done: number) => void): Promise<PhaseResult> {
  const proofs = await presignWithdrawals(size, 'seq');
  const startedMs = performance.now();
  let refused = 0;
  for (let i = 0; i < size.withdrawals; i += 1) {
    try {
      await requestWithdrawal(ledger, i % size.accounts, `seq-${i}`, proofs[i]!);
    } catch {
      refused += 1;
    }
    if (i % 250 === 0) onDone?.(i);
  }
  return phase(size.withdrawals, refused, startedMs);
}

/** The same requests (fresh withdrawal ids) with `inFlight` commands pending at once. */
export async function concurrentPhase(ledger: Ledger, size: WorkloadSize, onDone?: (done: number) => void): Promise<PhaseResult> {
  const proofs = await presignWithdrawals(size, 'par');
  const startedMs = performance.now();
  const refused = await runPool(size.withdrawals, size.inFlight, (i) => requestWithdrawal(ledger, i % size.accounts, `par-${i}`, proofs[i]!), onDone);
  return phase(size.withdrawals, refused, startedMs);
}

export interface VerificationResult {
  readonly proofs: number;
  /** One proof after another: the latency each command waits (jose verifies on libuv's thread pool). */
  readonly sequentialMicrosPerProof: number;
  /** `inFlight` at once: the machine's cost per proof when the thread pool is kept busy. */
  readonly concurrentMicrosPerProof: number;
}

/**
 * The proof check alone, as the command handler runs it once per command (the header's kid and alg, one Ed25519
 * verification through jose, the audience, the claims parsed), on the bench's own proofs: awaited one after another,
 * then `inFlight` at once.
 */
export async function verificationPhase(size: WorkloadSize): Promise<VerificationResult> {
  const proofs = await presignWithdrawals(size, 'verify');
  const verifier = verifierFor(BENCH_ATTESTER);
  const micros = (startedMs: number) => Math.round(((performance.now() - startedMs) * 1_000) / proofs.length);
  let startedMs = performance.now();
  for (const proof of proofs) await verifier.verify(proof);
  const sequentialMicrosPerProof = micros(startedMs);
  startedMs = performance.now();
  const refused = await runPool(proofs.length, size.inFlight, (i) => verifier.verify(proofs[i]!));
  if (refused > 0) throw new Error(`bench: ${refused} of its own proofs failed verification`);
  return { proofs: proofs.length, sequentialMicrosPerProof, concurrentMicrosPerProof: micros(startedMs) };
}
