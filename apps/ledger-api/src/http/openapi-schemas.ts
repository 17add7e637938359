import { ASSET_CODES } from '@app/domain';

/** JSON Schema (OpenAPI 3.0) of what the API answers: the shapes of the read models and the error bodies. */
export type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => (description === undefined ? { type: 'string' } : { type: 'string', description });
const nullable = (schema: Schema): Schema => ({ ...schema, nullable: true });
const decimal = (description: string): Schema => ({ type: 'string', pattern: '^(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$', description });
const position = (description: string): Schema => ({ type: 'string', pattern: '^[0-9]+$', description });
const array = (items: Schema): Schema => ({ type: 'array', items });
const byAsset = (value: Schema): Schema => ({ type: 'object', additionalProperties: value, description: `keyed by asset code (${ASSET_CODES.join(', ')})` });

function object(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return { type: 'object', properties, required: Object.keys(properties).filter((name) => !optional.includes(name)) };
}

function page(item: string): Schema {
  return object({ items: array(ref(item)), nextCursor: nullable(str('pass back as `cursor` for the next page; null on the last page')) });
}

const assetLoss = {
  lost: decimal('settled by unauthorized withdrawals'),
  prevented: decimal('pending unauthorized withdrawals cancelled in time'),
  reimbursed: decimal('reimbursed by the exchange'),
  paidOut: decimal("compensated by approved protection claims, in the asset's units"),
  payoutUsd: decimal('protection payouts in USD'),
  outstanding: decimal('lost and not yet compensated'),
};

export const RESPONSE_SCHEMAS: Record<string, Schema> = {
  ErrorResponse: object({ statusCode: { type: 'integer' }, error: str(), message: str(), code: str('a machine-readable reason, where there is one') }, ['code']),
  ValidationErrorResponse: object(
    {
      statusCode: { type: 'integer', enum: [400] },
      error: str(),
      message: str(),
      code: str(),
      errors: array(object({ field: str('the body field, query parameter or header'), reasons: array(str()) })),
    },
    ['code'],
  ),
  DomainErrorResponse: object({ statusCode: { type: 'integer' }, error: str(), message: str(), code: str('the DomainError code, such as INSUFFICIENT_FUNDS') }),
  CommandResponse: object({
    streamId: str('the stream the events were appended to'),
    revision: position("the stream's revision after the command"),
    position: position('the global position of the last event appended'),
    eventIds: array(str()),
  }),
  AssetBalance: object({
    available: decimal('deposited + reimbursed - held - withdrawn'),
    held: decimal('held by withdrawals on their way'),
    withdrawn: decimal('settled withdrawals'),
    deposited: decimal('deposits'),
    reimbursed: decimal('reimbursements'),
  }),
  AccountBalances: object({ accountId: str(), balances: byAsset(ref('AssetBalance')), position: position('the log position this answer reflects') }),
  UnauthorizedWithdrawal: object({ withdrawalId: str(), asset: { type: 'string', enum: [...ASSET_CODES] }, amount: decimal('the amount'), outcome: str('loss (settled) or prevented (cancelled)'), detectedAt: str() }),
  AssetLoss: object(assetLoss),
  IncidentLedgerEntry: object(
    {
      incidentId: str(),
      accountId: str(),
      status: str('outstanding or reimbursed (or prevented)'),
      withdrawals: array(ref('UnauthorizedWithdrawal')),
      assets: byAsset(ref('AssetLoss')),
      asset: str('with ?asset=: the one asset of this row'),
      ...assetLoss,
    },
    ['assets', 'asset', ...Object.keys(assetLoss)],
  ),
  IncidentLedgerPage: page('IncidentLedgerEntry'),
  LossTotal: object({
    incidentId: str(),
    asset: { type: 'string', enum: [...ASSET_CODES] },
    ...assetLoss,
    affectedAccounts: { type: 'integer' },
    priceUsd: nullable(decimal('the latest recorded USD price')),
    priceRecordedAt: nullable(str()),
    priceSource: nullable(str()),
    lostUsd: nullable(decimal('lost, in USD at the recorded price')),
    reimbursedUsd: nullable(decimal('reimbursed, in USD')),
    outstandingUsd: nullable(decimal('outstanding, in USD')),
  }),
  IncidentLossTotals: object(
    {
      incidentId: str(),
      title: str(),
      openedAt: str(),
      assets: array(ref('LossTotal')),
      totalLostUsd: decimal('priced assets only'),
      totalReimbursedUsd: decimal('priced assets only'),
      totalPayoutUsd: decimal('protection payouts'),
      totalOutstandingUsd: decimal('priced assets only'),
      unpricedAssets: array(str()),
      position: position('the log position this answer reflects'),
    },
  ),
  Reimbursement: object({ reimbursementId: str(), accountId: str(), incidentId: str(), asset: { type: 'string', enum: [...ASSET_CODES] }, amount: decimal('the amount'), reimbursedAt: str(), position: position('the event') }),
  ReimbursementPage: page('Reimbursement'),
  ProtectionClaim: object({
    claimId: str(),
    accountId: str(),
    withdrawalId: str(),
    status: str('filed, approved or denied'),
    filedAt: nullable(str()),
    policeReportReference: nullable(str()),
    policeReportCopyProvided: nullable({ type: 'boolean' }),
    questionnaireCompleted: nullable({ type: 'boolean' }),
    deviceJailbroken: nullable({ type: 'boolean' }),
    decidedAt: nullable(str()),
    reasons: array(str()),
    claimedUsd: nullable(decimal('claimed, in USD')),
    payoutUsd: nullable(decimal('paid, in USD')),
    capped: nullable({ type: 'boolean' }),
  }),
  ProtectionClaimPage: page('ProtectionClaim'),
  RiskAlert: object({
    alertId: str(),
    rule: str(),
    severity: str(),
    summary: str(),
    status: str(),
    accounts: array(str()),
    withdrawals: array(object({ accountId: str(), withdrawalId: str() })),
    positions: array(str()),
    detectedAt: str(),
    raisedAt: nullable(str()),
    halts: nullable({ type: 'boolean' }),
    haltOutcome: nullable(str()),
    acknowledgedAt: nullable(str()),
    dismissedAt: nullable(str()),
    dismissReason: nullable(str()),
    confirmedAt: nullable(str()),
    incidentId: nullable(str()),
    confirmationCompleted: { type: 'boolean' },
  }),
  RiskAlertPage: page('RiskAlert'),
  AuditEvent: object({
    position: position('global position'),
    streamId: str(),
    revision: position("the stream's revision"),
    eventId: str(),
    type: str(),
    data: { type: 'object', additionalProperties: true },
    metadata: {
      type: 'object',
      additionalProperties: true,
      properties: { hash: str('SHA-256 (hex) of this event'), prevHash: str("the previous event's hash in the stream"), recordedAt: str(), commandId: str() },
      required: ['hash', 'prevHash'],
    },
  }),
  AuditEventPage: object({ events: array(ref('AuditEvent')), next: nullable(position('pass back as fromPosition for the next page')) }),
  AuditStreamPage: object({ streamId: str(), events: array(ref('AuditEvent')), next: nullable(position('pass back as fromRevision for the next page')) }),
  VerifyReport: object({
    ok: { type: 'boolean' },
    eventsChecked: { type: 'integer' },
    streamsChecked: { type: 'integer' },
    headPosition: nullable(position('the head when the walk began')),
    firstFailure: nullable(object({ reason: str(), streamId: nullable(str()), revision: nullable(str()), position: nullable(str()), eventId: nullable(str()), detail: str() })),
  }),
  MerkleTree: object({ treeSize: { type: 'integer' }, rootHash: str('base64'), lastPosition: nullable(str()) }),
  InclusionProof: object({ position: str(), leafIndex: { type: 'integer' }, treeSize: { type: 'integer' }, leafHash: str(), rootHash: str(), inclusionPath: array(str()) }),
  ConsistencyProof: object({ from: { type: 'integer' }, to: { type: 'integer' }, fromRoot: str(), toRoot: str(), consistencyPath: array(str()) }),
  PublicJwk: { type: 'object', additionalProperties: true, properties: { kty: str(), crv: str(), x: str(), kid: str() } },
  Checkpoints: object({ checkpoints: array({ type: 'object', additionalProperties: true }) }),
  ProjectionStatus: object({ name: str(), version: { type: 'integer' }, position: nullable(str()), lagEvents: position('log positions behind the head'), lagSeconds: { type: 'number' } }),
  Health: object(
    {
      status: { type: 'string', enum: ['ok'] },
      eventStore: str(),
      readStore: str(),
      headPosition: nullable(str()),
      eventStoreHealth: {
        type: 'object',
        description: "what the event store's adapter reports about its connection (EventStoreDB: clockSkewMs, appendDeadlineMs, unconfirmedAppends); absent for the others",
        additionalProperties: { type: 'number', nullable: true },
      },
      projections: array(ref('ProjectionStatus')),
    },
    ['eventStoreHealth'],
  ),
  Live: object({ status: { type: 'string', enum: ['live'] } }),
  Readiness: object({
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    reasons: array(str()),
    headPosition: nullable(str()),
    maxLagEvents: { type: 'integer' },
    maxLagSeconds: { type: 'integer' },
    projections: array(ref('ProjectionStatus')),
  }),
  RevokeAllResponse: { allOf: [ref('CommandResponse'), object({ revocationId: str() })] },
  ConfirmRiskAlertResponse: { allOf: [ref('CommandResponse'), object({ reported: { type: 'integer' }, alreadyReportedOrFinal: { type: 'integer' } })] },
};

/** The success schema of each read route (commands answer CommandResponse unless named here). */
export const SUCCESS_SCHEMAS: Record<string, string> = {
  'get /v1/accounts/{id}/balances': 'AccountBalances',
  'get /v1/incidents/{id}/ledger': 'IncidentLedgerPage',
  'get /v1/incidents/{id}/loss-totals': 'IncidentLossTotals',
  'get /v1/reimbursements': 'ReimbursementPage',
  'get /v1/protection-claims': 'ProtectionClaimPage',
  'get /v1/risk/alerts': 'RiskAlertPage',
  'get /v1/audit/streams/{stream}': 'AuditStreamPage',
  'get /v1/audit/events': 'AuditEventPage',
  'get /v1/audit/verify': 'VerifyReport',
  'get /v1/audit/tree': 'MerkleTree',
  'get /v1/audit/proofs/inclusion': 'InclusionProof',
  'get /v1/audit/proofs/consistency': 'ConsistencyProof',
  'get /v1/audit/checkpoint-key': 'PublicJwk',
  'get /v1/audit/checkpoints': 'Checkpoints',
  'get /health': 'Health',
  'get /health/live': 'Live',
  'get /health/ready': 'Readiness',
  'post /v1/platform/two-factor-tokens/revoke-all': 'RevokeAllResponse',
  'post /v1/risk/alerts/{alertId}/confirm': 'ConfirmRiskAlertResponse',
};
