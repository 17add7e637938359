import { assertNever, type Amount, type ProtectionDenialReason } from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '../../projection';
import { accountIdOf, dataOf } from '../support';

export const PROTECTION_CLAIMS = 'protection-claims';

type Handled = 'ProtectionClaimFiled' | 'ProtectionClaimApproved' | 'ProtectionClaimDenied';
const HANDLES = new Set<Handled>(['ProtectionClaimFiled', 'ProtectionClaimApproved', 'ProtectionClaimDenied']);

export type ProtectionClaimStatus = 'filed' | 'approved' | 'denied';
export const PROTECTION_CLAIM_STATUSES: readonly ProtectionClaimStatus[] = ['filed', 'approved', 'denied'];

/** One protection claim (rule 8) as filed and decided. */
export interface ProtectionClaimRow {
  readonly claimId: string;
  readonly accountId: string;
  readonly withdrawalId: string;
  readonly status: ProtectionClaimStatus;
  /** Null when the decision is the first the log shows of the claim. */
  readonly filedAt: string | null;
  readonly policeReportReference: string | null;
  readonly policeReportCopyProvided: boolean | null;
  readonly questionnaireCompleted: boolean | null;
  readonly deviceJailbroken: boolean | null;
  readonly decidedAt: string | null;
  /** Every failed condition of a denial; empty otherwise. */
  readonly reasons: readonly ProtectionDenialReason[];
  readonly claimedUsd: Amount | null;
  readonly payoutUsd: Amount | null;
  /** Whether the payout was capped at the programme's limit; null until approved. */
  readonly capped: boolean | null;
}

export const claimKey = (accountId: string, claimId: string): string => `${accountId}/${claimId}`;

function unfiled(accountId: string, claimId: string, withdrawalId: string): ProtectionClaimRow {
  return {
    claimId,
    accountId,
    withdrawalId,
    status: 'filed',
    filedAt: null,
    policeReportReference: null,
    policeReportCopyProvided: null,
    questionnaireCompleted: null,
    deviceJailbroken: null,
    decidedAt: null,
    reasons: [],
    claimedUsd: null,
    payoutUsd: null,
    capped: null,
  };
}

function save(view: ReadModelView, row: ProtectionClaimRow): void {
  view.put(claimKey(row.accountId, row.claimId), row, { accountId: row.accountId, status: row.status });
}

function evolve(view: ReadModelView, event: RecordedEvent): void {
  const type = event.type as Handled;
  const accountId = accountIdOf(event);
  switch (type) {
    case 'ProtectionClaimFiled': {
      const data = dataOf(event, type);
      const current = view.get<ProtectionClaimRow>(claimKey(accountId, data.claimId));
      save(view, {
        ...(current ?? unfiled(accountId, data.claimId, data.withdrawalId)),
        withdrawalId: data.withdrawalId,
        filedAt: data.filedAt,
        policeReportReference: data.policeReportReference,
        policeReportCopyProvided: data.policeReportCopyProvided,
        questionnaireCompleted: data.questionnaireCompleted,
        deviceJailbroken: data.deviceJailbroken,
      });
      return;
    }
    case 'ProtectionClaimApproved': {
      const { claimId, withdrawalId, claimedUsd, payoutUsd, capped, decidedAt } = dataOf(event, type);
      const current = view.get<ProtectionClaimRow>(claimKey(accountId, claimId)) ?? unfiled(accountId, claimId, withdrawalId);
      save(view, { ...current, status: 'approved', decidedAt, reasons: [], claimedUsd, payoutUsd, capped });
      return;
    }
    case 'ProtectionClaimDenied': {
      const { claimId, withdrawalId, reasons, decidedAt } = dataOf(event, type);
      const current = view.get<ProtectionClaimRow>(claimKey(accountId, claimId)) ?? unfiled(accountId, claimId, withdrawalId);
      save(view, { ...current, status: 'denied', decidedAt, reasons: [...reasons], payoutUsd: null, capped: null });
      return;
    }
    default:
      return assertNever(type);
  }
}

/**
 * Protection claims (rule 8), one row per (account, claim), indexed by account and status. No command files or
 * decides a claim yet, so the row does not insist that the filing comes first: a decision alone makes a row too.
 */
export const protectionClaimsProjection: Projection = { name: PROTECTION_CLAIMS, version: 1, handles: HANDLES, evolve, partitionedBy: 'stream' };
