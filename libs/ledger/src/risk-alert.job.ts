import { DomainError, haltingAlerts, pendingConfirmations, PLATFORM_STREAM, RISK_STREAM, type RiskAlertState } from '@app/domain';
import { riskAlerts, type ReadStore } from '@app/projections';
import { SYSTEM_ACTOR, type CommandMetadata } from './command-metadata';
import type { Ledger } from './ledger';
import { PeriodicJob } from './periodic-job';
import type { JobLogger } from './two-factor-revocation.job';

/** How often the job looks for work when nothing wakes it. */
export const RISK_JOB_INTERVAL_MS = 1_000;
/** Detections raised per pass; the next pass takes the rest. */
const RAISE_BATCH = 500;

export interface RiskPass {
  readonly raised: number;
  /** Halting alerts that halted withdrawals. */
  readonly halted: number;
  /** Halting alerts that found withdrawals halted already (RiskHaltSkipped). */
  readonly skipped: number;
  readonly confirmed: number;
}

/**
 * The process manager of the risk monitor. The monitor (the risk-alerts read model) detects; this job turns what it
 * detected into decisions on the log, each exactly once however often it runs, in however many processes, and
 * whenever it was killed:
 *
 * 1. a `detected` alert is raised on the `risk` stream (RaiseRiskAlert yields nothing for an alert already raised);
 * 2. a raised alert that the auto-halt policy made halting halts withdrawals (HaltWithdrawals with its alertId: the
 *    platform applies each alert once, and records RiskHaltSkipped when withdrawals were halted already);
 * 3. a confirmed alert's withdrawals are reported unauthorized in its incident (the account decider refuses a second
 *    report, which counts as done), then the confirmation is completed.
 *
 * Steps 2 and 3 read the aggregates, not the read model, so a halt never waits for the projector.
 */
export class RiskAlertJob extends PeriodicJob<RiskPass> {
  constructor(
    private readonly ledger: Ledger,
    private readonly readStore: ReadStore,
    logger: JobLogger,
  ) {
    super(logger, 'risk alert job');
  }

  /** Runs a pass every `intervalMs` until stop(). */
  override start(intervalMs = RISK_JOB_INTERVAL_MS): void {
    super.start(intervalMs);
  }

  protected async runPass(): Promise<RiskPass> {
    const raised = await this.raiseDetected();
    const { halted, skipped } = await this.applyHalts();
    let confirmed = 0;
    const { state } = await this.ledger.risk.load(RISK_STREAM, { refresh: true });
    for (const alert of pendingConfirmations(state)) {
      if (this.stopping) break;
      await this.applyConfirmation(alert);
      confirmed += 1;
    }
    return { raised, halted, skipped, confirmed };
  }

  private async raiseDetected(): Promise<number> {
    const page = await riskAlerts(this.readStore, { status: 'detected', limit: RAISE_BATCH });
    let raised = 0;
    for (const row of page.items) {
      if (this.stopping) break;
      const { alertId, rule, severity, summary, accounts, withdrawals, positions, detectedAt } = row;
      const detection = { alertId, rule, severity, summary, accounts, withdrawals, positions, detectedAt };
      const result = await this.ledger.executeRisk({ type: 'RaiseRiskAlert', data: { detection } }, this.metadata(`risk-raise:${alertId}`, alertId));
      if (result.eventIds.length > 0) {
        raised += 1;
        this.logger.log(`risk alert ${alertId} raised (${rule}, ${severity}): ${summary}`);
      }
    }
    return raised;
  }

  private async applyHalts(): Promise<{ halted: number; skipped: number }> {
    const [{ state: risk }, { state: platform }] = await Promise.all([
      this.ledger.risk.load(RISK_STREAM, { refresh: true }),
      this.ledger.platform.load(PLATFORM_STREAM, { refresh: true }),
    ]);
    let halted = 0;
    let skipped = 0;
    for (const alert of haltingAlerts(risk).filter((a) => !platform.appliedRiskHalts.has(a.alertId))) {
      if (this.stopping) break;
      const reason = `risk alert ${alert.alertId} (${alert.rule}, ${alert.severity}) halted withdrawals automatically`;
      const result = await this.ledger.executePlatform(
        { type: 'HaltWithdrawals', data: { incidentId: null, reason, alertId: alert.alertId } },
        this.metadata(`risk-halt:${alert.alertId}`, alert.alertId),
      );
      if (result.eventIds.length === 0) continue;
      const after = (await this.ledger.platform.load(PLATFORM_STREAM, { refresh: 'if-changed' })).state;
      if (after.haltAlertId === alert.alertId) {
        halted += 1;
        this.logger.log(`risk alert ${alert.alertId}: ${reason}`);
      } else {
        skipped += 1;
        this.logger.log(`risk alert ${alert.alertId} (${alert.rule}, ${alert.severity}) found withdrawals halted already`);
      }
    }
    return { halted, skipped };
  }

  /** Reports every withdrawal of a confirmed alert unauthorized, then completes the confirmation. */
  async applyConfirmation(alert: RiskAlertState): Promise<{ reported: number; skipped: number }> {
    const incidentId = alert.confirmation?.incidentId;
    if (incidentId === undefined) return { reported: 0, skipped: 0 };
    let reported = 0;
    let skipped = 0;
    for (const { accountId, withdrawalId } of alert.withdrawals) {
      try {
        await this.ledger.executeAccount(
          accountId,
          { type: 'ReportUnauthorizedWithdrawal', data: { withdrawalId, incidentId } },
          this.metadata(`risk-confirm:${alert.alertId}:${accountId}:${withdrawalId}`, alert.alertId),
        );
        reported += 1;
      } catch (error) {
        // Reported already (by an admin, or a pass that died before completing), or rejected/cancelled: nothing left to report.
        if (error instanceof DomainError && (error.code === 'UNAUTHORIZED_ALREADY_REPORTED' || error.code === 'WITHDRAWAL_ALREADY_FINAL')) skipped += 1;
        else throw error;
      }
    }
    await this.ledger.executeRisk(
      { type: 'CompleteRiskAlertConfirmation', data: { alertId: alert.alertId, reported, skipped } },
      this.metadata(`risk-confirm-complete:${alert.alertId}`, alert.alertId),
    );
    this.logger.log(`risk alert ${alert.alertId} confirmed into ${incidentId}: ${reported} withdrawals reported, ${skipped} already reported or final`);
    return { reported, skipped };
  }

  private metadata(commandId: string, alertId: string): CommandMetadata {
    return { commandId, correlationId: alertId, causationId: alertId, actor: SYSTEM_ACTOR };
  }
}
