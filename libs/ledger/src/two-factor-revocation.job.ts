import { DomainError, invariant, PLATFORM_STREAM, toIso, type AccountOpened } from '@app/domain';
import type { CommandMetadata } from './command-metadata';
import { SYSTEM_ACTOR } from './command-metadata';
import type { Ledger } from './ledger';

/** Accounts revoked at once by the job; enough to keep group commit busy without starving API traffic. */
export const REVOCATION_CONCURRENCY = 16;

export interface RevocationOutcome {
  readonly revocationId: string;
  readonly accountsScanned: number;
  readonly tokensRevoked: number;
}

export interface JobLogger {
  log(message: string): void;
  error(message: string): void;
}

/**
 * Applies a platform-wide 2FA revocation (AllTwoFactorTokensRevoked) to every account: each account stream gets
 * a TwoFactorTokenRevoked for every token the revocation ended (rule 2). The job is resumable and idempotent:
 * each account's command has a deterministic id and the decider yields nothing for an account already done, so a
 * job killed half-way and started again finishes without a duplicate. The last step records completion.
 */
export class TwoFactorRevocationJob {
  private readonly running = new Map<string, Promise<RevocationOutcome>>();
  private stopping = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly logger: JobLogger,
  ) {}

  /** Runs (or joins the run of) one revocation. */
  run(revocationId: string, correlationId = revocationId): Promise<RevocationOutcome> {
    const current = this.running.get(revocationId);
    if (current) return current;
    const run = this.apply(revocationId, correlationId).finally(() => this.running.delete(revocationId));
    this.running.set(revocationId, run);
    return run;
  }

  /** Finishes every revocation that a previous process recorded but did not complete. */
  async resumePending(): Promise<RevocationOutcome[]> {
    const { state } = await this.ledger.platform.load(PLATFORM_STREAM, { refresh: true });
    const pending = [...state.revocations.values()].filter((revocation) => !revocation.completed);
    const outcomes: RevocationOutcome[] = [];
    for (const revocation of pending) {
      this.logger.log(`resuming platform-wide 2FA revocation ${revocation.revocationId}`);
      outcomes.push(await this.run(revocation.revocationId));
    }
    return outcomes;
  }

  /**
   * Stops taking new accounts and waits for the ones in flight (graceful shutdown). An unfinished revocation is
   * not marked complete, so the next start resumes it.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
  }

  private async apply(revocationId: string, correlationId: string): Promise<RevocationOutcome> {
    const { state } = await this.ledger.platform.load(PLATFORM_STREAM, { refresh: true });
    const revocation = state.revocations.get(revocationId);
    invariant(revocation, `revocation job started for unknown revocation ${revocationId}`);
    const outcome = { revocationId, accountsScanned: 0, tokensRevoked: 0 };
    if (revocation.completed) return outcome;
    const command = {
      type: 'ApplyPlatformTwoFactorRevocation' as const,
      data: { revocationId, revokedAt: toIso(revocation.revokedAt), reason: revocation.reason },
    };
    const inFlight = new Set<Promise<void>>();
    for await (const opened of this.ledger.store.readAll({ filter: { eventTypes: ['AccountOpened'] } })) {
      if (this.stopping) break;
      const { accountId } = (opened.data as AccountOpened['data']);
      const metadata = this.metadata(`2fa-revocation:${revocationId}:${accountId}`, correlationId, opened.eventId);
      const task = this.ledger.executeAccount(accountId, command, metadata).then((result) => {
        outcome.accountsScanned += 1;
        outcome.tokensRevoked += result.eventIds.length;
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task)).catch(() => undefined);
      if (inFlight.size >= REVOCATION_CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (this.stopping) {
      this.logger.log(`platform-wide 2FA revocation ${revocationId} paused by shutdown; it resumes at the next start`);
      return outcome;
    }
    await this.complete(revocationId, correlationId);
    this.logger.log(`platform-wide 2FA revocation ${revocationId} complete: ${outcome.tokensRevoked} tokens on ${outcome.accountsScanned} accounts`);
    return outcome;
  }

  private async complete(revocationId: string, correlationId: string): Promise<void> {
    const metadata = this.metadata(`2fa-revocation-complete:${revocationId}`, correlationId, revocationId);
    try {
      await this.ledger.executePlatform({ type: 'CompleteTwoFactorRevocation', data: { revocationId } }, metadata);
    } catch (error) {
      // Another process finished the same revocation first: the outcome is the same.
      if (!(error instanceof DomainError && error.code === 'TWO_FACTOR_REVOCATION_ALREADY_COMPLETED')) throw error;
    }
  }

  private metadata(commandId: string, correlationId: string, causationId: string): CommandMetadata {
    return { commandId, correlationId, causationId, actor: SYSTEM_ACTOR };
  }
}
