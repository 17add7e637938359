/**
 * Every business refusal the deciders can return. The code is stable (clients match on it); the message is for
 * people and may name the values involved.
 */
export const DOMAIN_ERROR_MESSAGES = {
  ACCOUNT_NOT_FOUND: 'the account does not exist',
  ACCOUNT_ALREADY_OPEN: 'an account with this id is already open',
  AMOUNT_NOT_POSITIVE: 'the amount must be greater than zero',
  DEPOSIT_ALREADY_RECORDED: 'a deposit with this id is already recorded',
  TWO_FACTOR_TOKEN_ALREADY_ENROLLED: 'a second-factor token with this id is already enrolled',
  TWO_FACTOR_TOKEN_NOT_FOUND: 'the account has no second-factor token with this id',
  TWO_FACTOR_REVOKED: 'the second-factor token is revoked; the customer must enrol a new one',
  TWO_FACTOR_TOKEN_ALREADY_REVOKED: 'the second-factor token is already revoked',
  ADDRESS_ALREADY_WHITELISTED: 'the address is already whitelisted for this asset',
  ADDRESS_NOT_WHITELISTED: 'the address is not whitelisted for this asset',
  ADDRESS_ON_HOLD: 'the address is newly whitelisted and still inside its withdrawal hold',
  INSUFFICIENT_FUNDS: 'the amount exceeds the available balance',
  WITHDRAWALS_HALTED: 'withdrawals are halted on the platform',
  WITHDRAWALS_ALREADY_HALTED: 'withdrawals are already halted',
  WITHDRAWALS_NOT_HALTED: 'withdrawals are not halted',
  WITHDRAWAL_ALREADY_EXISTS: 'a withdrawal with this id already exists',
  WITHDRAWAL_NOT_FOUND: 'the account has no withdrawal with this id',
  WITHDRAWAL_NOT_APPROVED: 'the withdrawal must be approved before it is settled',
  WITHDRAWAL_ALREADY_APPROVED: 'the withdrawal is already approved',
  WITHDRAWAL_ALREADY_FINAL: 'the withdrawal is already settled, rejected or cancelled',
  WITHDRAWAL_POLICY_UNCHANGED: 'the withdrawal policy already has this value',
  INCIDENT_NOT_FOUND: 'the incident does not exist',
  INCIDENT_ALREADY_EXISTS: 'an incident with this id already exists',
  INCIDENT_NOT_OPEN: 'the incident is closed',
  UNAUTHORIZED_ALREADY_REPORTED: 'this withdrawal is already reported as unauthorized',
  REIMBURSEMENT_ALREADY_RECORDED: 'a reimbursement with this id is already recorded',
  REIMBURSEMENT_EXCEEDS_LOSS: "the reimbursement exceeds what is outstanding of the account's loss in this asset for this incident (the loss less reimbursements and approved protection payouts)",
  TWO_FACTOR_REVOCATION_ALREADY_RECORDED: 'a platform-wide revocation with this id is already recorded',
  TWO_FACTOR_REVOCATION_NOT_FOUND: 'there is no platform-wide revocation with this id',
  TWO_FACTOR_REVOCATION_ALREADY_COMPLETED: 'the platform-wide revocation is already completed',
  PRICE_NOT_POSITIVE: 'the price must be greater than zero',
  ANTI_PHISHING_CODE_ALREADY_SET: 'the anti-phishing code is already set',
  MFA_UNCHANGED: 'multi-factor authentication already has this setting for these transaction types',
  PROTECTION_ALREADY_ENROLLED: 'the account is already enrolled in the protection programme',
  PROTECTION_NOT_ENROLLED: 'the account is not enrolled in the protection programme',
  PROTECTION_PROGRAMME_NOT_STARTED: 'the protection programme had not started at that time',
  PROTECTION_CLAIM_ALREADY_FILED: 'a protection claim with this id is already filed',
  PROTECTION_CLAIM_NOT_FOUND: 'the account has no protection claim with this id',
  PROTECTION_CLAIM_ALREADY_DECIDED: 'the protection claim is already decided',
  WITHDRAWAL_NOT_UNAUTHORIZED: 'the withdrawal is not reported as an unauthorized loss',
  PROTECTION_WITHDRAWAL_ALREADY_CLAIMED: 'a protection claim for this withdrawal is already filed',
  PRICE_NOT_RECORDED: 'no USD price is recorded for the asset, so the claim cannot be valued',
  SECOND_FACTOR_REQUIRED: 'a second-factor proof (secondFactor) is required: the customer must enter their second factor for this transaction',
  SECOND_FACTOR_INVALID: 'the second-factor proof is not valid for this transaction',
  SECOND_FACTOR_POLICY_UNCHANGED: 'the second-factor policy is already as requested',
  RISK_ALERT_NOT_FOUND: 'there is no risk alert with this id',
  RISK_ALERT_ALREADY_CLOSED: 'the risk alert is already dismissed or confirmed',
  RISK_ALERT_ALREADY_ACKNOWLEDGED: 'the risk alert is already acknowledged',
  RISK_ALERT_NAMES_NO_WITHDRAWAL: 'the risk alert names no withdrawal to report as unauthorized',
  RISK_ALERT_NOT_CONFIRMED: 'the risk alert is not confirmed',
  RISK_RULES_UNCHANGED: 'the risk thresholds already have these values',
  AUTO_HALT_POLICY_UNCHANGED: 'the automatic halt policy is already as requested',
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERROR_MESSAGES;

/** An expected refusal of a command by a business rule. Nothing is appended when a decider throws it. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    readonly detail?: string,
  ) {
    super(detail ? `${DOMAIN_ERROR_MESSAGES[code]}: ${detail}` : DOMAIN_ERROR_MESSAGES[code]);
    this.name = 'DomainError';
  }
}

export function domainError(code: DomainErrorCode, detail?: string): DomainError {
  return new DomainError(code, detail);
}
