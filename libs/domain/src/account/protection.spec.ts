import { formatAmount } from '../money/amount';
import { TRANSACTION_TYPES, type AccountEvent, type ProtectionDenialReason } from './account.events';
import { availableMinor, balanceOf, lossOf } from './account.state';
import {
  antiPhishingCodeSet,
  approved,
  at,
  cancelled,
  claimApproved,
  claimDenied,
  claimFiled,
  deposited,
  enrolled,
  ETH_ADDRESS as ADDR,
  fileClaim,
  givenAccount,
  mfaDisabled,
  mfaEnabled,
  opened,
  protectionEnrolled,
  reimburse,
  reimbursed,
  requested,
  settled,
  unauthorizedDetected,
  whitelisted,
  type ClaimFields,
} from '../testing/given';

const FILED_AT = '2022-03-20T12:00Z';
const FILED_ISO = '2022-03-20T12:00:00.000Z';
/** The unauthorized withdrawal every claim below is about, unless a test says otherwise. */
const STOLEN_AT = '2022-03-10T11:00Z';
const ETH_PRICE = { ETH: '3129' };

/** Opened, funded, 2FA and an address, long before anything else. */
const funded = [opened(), deposited('ETH', '500'), enrolled('tok-1'), whitelisted('ETH', ADDR)];

/** An unauthorized withdrawal of `amount` ETH requested at `requestedAt` that left the exchange (a loss). */
const lost = (amount: string, requestedAt = STOLEN_AT, withdrawalId = 'w-1'): AccountEvent[] => [
  requested({ withdrawalId, amount }, requestedAt),
  approved(withdrawalId, requestedAt),
  settled(withdrawalId, requestedAt),
  unauthorizedDetected({ withdrawalId, incidentId: 'inc-2', amount, outcome: 'loss' }, '2022-03-11T08:00Z'),
];

/** Every condition of the programme met: MFA on all transaction types, code set 2 months before, enrolled. */
const protectedAccount = [
  ...funded,
  antiPhishingCodeSet('2022-01-10T00:00Z'),
  mfaEnabled([...TRANSACTION_TYPES], '2022-02-01T00:00Z'),
  protectionEnrolled('2022-02-01T00:00Z'),
];

const claim = (fields: ClaimFields = {}) => fileClaim(fields);
const filed = (fields: ClaimFields = {}) => claimFiled(fields, FILED_AT);

describe('rule 8: an eligible protection claim is approved, valued at the latest recorded price', () => {
  test('10 ETH at 3129 USD is claimed and paid as 31290 USD', () => {
    givenAccount([...protectedAccount, ...lost('10')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([
        filed(),
        {
          type: 'ProtectionClaimApproved',
          data: { claimId: 'claim-1', withdrawalId: 'w-1', incidentId: 'inc-2', asset: 'ETH', claimedUsd: '31290', payoutUsd: '31290', capped: false, compensatedAmount: '10', decidedAt: FILED_ISO },
          schemaVersion: 1,
        },
      ]);
  });

  test('the value is exact and rounded half-up to the cent once: 0.123456789012345678 ETH at 3129.12345678 USD', () => {
    givenAccount([...protectedAccount, ...lost('0.123456789012345678')])
      .withPrices({ ETH: '3129.12345678' })
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '386.31', payoutUsd: '386.31', compensatedAmount: '0.123456789012345678' }, FILED_AT)]);
  });

  test('a claim worth more than US$250,000 is paid 250000 and marked capped', () => {
    givenAccount([...protectedAccount, ...lost('100')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '312900', payoutUsd: '250000', capped: true, compensatedAmount: '79.897730904442313839' }, FILED_AT)]);
  });

  test('a claim worth exactly US$250,000 is paid in full and not capped', () => {
    givenAccount([...protectedAccount, ...lost('100')])
      .withPrices({ ETH: '2500' })
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '250000', payoutUsd: '250000', capped: false, compensatedAmount: '100' }, FILED_AT)]);
  });

  test("the cap is per account: earlier approved payouts leave only the rest of US$250,000", () => {
    const earlier = [
      ...lost('70', '2022-03-09T11:00Z', 'w-0'),
      claimFiled({ claimId: 'claim-0', withdrawalId: 'w-0' }, '2022-03-15T00:00Z'),
      claimApproved({ claimId: 'claim-0', withdrawalId: 'w-0', claimedUsd: '219030', payoutUsd: '219030', compensatedAmount: '70' }, '2022-03-15T00:00Z'),
    ];
    // 250000 - 219030 = 30970 left of the cap; the new claim is worth 31290.
    givenAccount([...protectedAccount, ...earlier, ...lost('10')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '31290', payoutUsd: '30970', capped: true, compensatedAmount: '9.897730904442313839' }, FILED_AT)])
      .thenState((state) => expect(state.approvedPayoutUsdCents).toBe(25_000_000n));
  });

  test('once the cap is used up, an eligible claim is approved with a payout of 0, capped', () => {
    const earlier = [
      ...lost('100', '2022-03-09T11:00Z', 'w-0'),
      claimFiled({ claimId: 'claim-0', withdrawalId: 'w-0' }, '2022-03-15T00:00Z'),
      claimApproved({ claimId: 'claim-0', withdrawalId: 'w-0', claimedUsd: '312900', payoutUsd: '250000', capped: true, compensatedAmount: '79.897730904442313839' }, '2022-03-15T00:00Z'),
    ];
    givenAccount([...protectedAccount, ...earlier, ...lost('1')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '3129', payoutUsd: '0', capped: true, compensatedAmount: '0' }, FILED_AT)]);
  });

  test('a claim moves no balance: finance pays it outside the ledger', () => {
    givenAccount([...protectedAccount, ...lost('10')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenState((state) => {
        expect(formatAmount('ETH', availableMinor(balanceOf(state, 'ETH')))).toBe('490');
        expect(balanceOf(state, 'USD')).toEqual({ depositedMinor: 0n, reimbursedMinor: 0n, heldMinor: 0n, withdrawnMinor: 0n });
        expect(state.protectionClaims.get('claim-1')).toEqual({ claimId: 'claim-1', withdrawalId: 'w-1', status: 'approved', payoutUsdCents: 3_129_000n });
      });
  });
});

describe('rule 8: a claim that fails a condition is denied with that reason', () => {
  const denied = (reasons: ProtectionDenialReason[]) => [filed(), claimDenied(reasons, {}, FILED_AT)];

  test('a withdrawal before the programme started (2022-02-01) is TRANSACTION_BEFORE_PROGRAMME', () => {
    const history = [
      ...funded,
      antiPhishingCodeSet('2021-12-01T00:00Z'),
      mfaEnabled([...TRANSACTION_TYPES], '2021-12-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10', '2022-01-31T23:59Z'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['TRANSACTION_BEFORE_PROGRAMME']));
  });

  test('a withdrawal at the very start of the programme is covered', () => {
    const history = [
      ...funded,
      antiPhishingCodeSet('2021-12-01T00:00Z'),
      mfaEnabled([...TRANSACTION_TYPES], '2021-12-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10', '2022-02-01T00:00Z'),
    ];
    givenAccount(history)
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '31290', payoutUsd: '31290', compensatedAmount: '10' }, FILED_AT)]);
  });

  test('MFA on some transaction types only is MFA_NOT_ON_ALL_TRANSACTIONS', () => {
    const history = [
      ...funded,
      antiPhishingCodeSet('2022-01-10T00:00Z'),
      mfaEnabled(['withdrawal', 'whitelist'], '2022-02-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['MFA_NOT_ON_ALL_TRANSACTIONS']));
  });

  test('MFA turned on for every type only after the withdrawal is MFA_NOT_ON_ALL_TRANSACTIONS', () => {
    const history = [
      ...funded,
      antiPhishingCodeSet('2022-01-10T00:00Z'),
      mfaEnabled(['withdrawal'], '2022-02-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10'),
      mfaEnabled(['whitelist', 'transfer', 'trade'], '2022-03-12T00:00Z'),
    ];
    givenAccount(history)
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents(denied(['MFA_NOT_ON_ALL_TRANSACTIONS']))
      .thenState((state) => expect(state.mfaOnAllTransactionTypesSince?.toMillis()).toBe(at('2022-03-12T00:00Z').toMillis()));
  });

  test('MFA that covered every type at the time of the withdrawal counts, even if turned off since', () => {
    const history = [...protectedAccount, ...lost('10'), mfaDisabled(['trade'], '2022-03-12T00:00Z')];
    givenAccount(history)
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '31290', payoutUsd: '31290', compensatedAmount: '10' }, FILED_AT)])
      .thenState((state) => expect(state.mfaOnAllTransactionTypesSince).toBeNull());
  });

  test('MFA off for a while before the withdrawal and on again only after it is MFA_NOT_ON_ALL_TRANSACTIONS', () => {
    const history = [
      ...protectedAccount,
      mfaDisabled(['transfer'], '2022-03-01T00:00Z'),
      ...lost('10'),
      mfaEnabled(['transfer'], '2022-03-11T00:00Z'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['MFA_NOT_ON_ALL_TRANSACTIONS']));
  });

  test('an anti-phishing code first set 9 days before the withdrawal is ANTI_PHISHING_CODE_TOO_RECENT', () => {
    const history = [
      ...funded,
      antiPhishingCodeSet('2022-03-01T11:00Z'),
      mfaEnabled([...TRANSACTION_TYPES], '2022-02-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['ANTI_PHISHING_CODE_TOO_RECENT']));
  });

  test('a code set 21 days minus one minute before is too recent; exactly 21 days before is enough', () => {
    const withCodeAt = (setAt: string) => [
      ...funded,
      antiPhishingCodeSet(setAt),
      mfaEnabled([...TRANSACTION_TYPES], '2022-02-01T00:00Z'),
      protectionEnrolled('2022-02-01T00:00Z'),
      ...lost('10'),
    ];
    // STOLEN_AT is 2022-03-10T11:00Z; 21 days before it is 2022-02-17T11:00Z.
    givenAccount(withCodeAt('2022-02-17T11:01Z')).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['ANTI_PHISHING_CODE_TOO_RECENT']));
    givenAccount(withCodeAt('2022-02-17T11:00Z'))
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '31290', payoutUsd: '31290', compensatedAmount: '10' }, FILED_AT)]);
  });

  test('a code never set is ANTI_PHISHING_CODE_TOO_RECENT', () => {
    const history = [...funded, mfaEnabled([...TRANSACTION_TYPES], '2022-02-01T00:00Z'), protectionEnrolled('2022-02-01T00:00Z'), ...lost('10')];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenEvents(denied(['ANTI_PHISHING_CODE_TOO_RECENT']));
  });

  test('the 21 days count from the first time the code was set, not from a later change', () => {
    const history = [...protectedAccount, antiPhishingCodeSet('2022-03-05T00:00Z'), ...lost('10')];
    givenAccount(history)
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '31290', payoutUsd: '31290', compensatedAmount: '10' }, FILED_AT)]);
  });

  test.each<[string, ClaimFields, ProtectionDenialReason]>([
    ['no police report reference', { policeReportReference: null }, 'NO_POLICE_REPORT'],
    ['a blank police report reference', { policeReportReference: '   ' }, 'NO_POLICE_REPORT'],
    ['no copy of the police report', { policeReportCopyProvided: false }, 'NO_POLICE_REPORT_COPY'],
    ['the questionnaire not completed', { questionnaireCompleted: false }, 'QUESTIONNAIRE_INCOMPLETE'],
    ['a jailbroken device', { deviceJailbroken: true }, 'DEVICE_JAILBROKEN'],
  ])('%s is %s', (_what, fields, reason) => {
    givenAccount([...protectedAccount, ...lost('10')])
      .withPrices(ETH_PRICE)
      .when(claim(fields), at(FILED_AT))
      .thenEvents([claimFiled(fields, FILED_AT), claimDenied([reason], {}, FILED_AT)]);
  });

  test('a denial lists every failed condition, in the order of the terms', () => {
    const history = [...funded, mfaEnabled(['withdrawal'], '2022-02-01T00:00Z'), protectionEnrolled('2022-02-01T00:00Z'), ...lost('10', '2022-01-17T00:10Z')];
    const fields: ClaimFields = { policeReportReference: null, policeReportCopyProvided: false, questionnaireCompleted: false, deviceJailbroken: true };
    givenAccount(history)
      .withPrices(ETH_PRICE)
      .when(claim(fields), at(FILED_AT))
      .thenEvents([
        claimFiled(fields, FILED_AT),
        claimDenied(
          [
            'TRANSACTION_BEFORE_PROGRAMME',
            'MFA_NOT_ON_ALL_TRANSACTIONS',
            'ANTI_PHISHING_CODE_TOO_RECENT',
            'NO_POLICE_REPORT',
            'NO_POLICE_REPORT_COPY',
            'QUESTIONNAIRE_INCOMPLETE',
            'DEVICE_JAILBROKEN',
          ],
          {},
          FILED_AT,
        ),
      ])
      .thenState((state) => {
        expect(state.protectionClaims.get('claim-1')?.status).toBe('denied');
        expect(state.approvedPayoutUsdCents).toBe(0n);
      });
  });
});

describe('rule 8: what is not a claim at all is refused and nothing is recorded', () => {
  const lostTen = [...protectedAccount, ...lost('10')];

  test('an account that never opened is ACCOUNT_NOT_FOUND', () => {
    givenAccount([]).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('ACCOUNT_NOT_FOUND');
  });

  test('a claim filed before the programme started is PROTECTION_PROGRAMME_NOT_STARTED', () => {
    givenAccount([...protectedAccount.filter((e) => e.type !== 'ProtectionProgrammeEnrolled'), ...lost('10', '2022-01-17T00:10Z')])
      .withPrices(ETH_PRICE)
      .when(claim(), at('2022-01-31T23:59Z'))
      .thenThrows('PROTECTION_PROGRAMME_NOT_STARTED');
  });

  test('an account not enrolled in the programme is PROTECTION_NOT_ENROLLED', () => {
    const notEnrolled = lostTen.filter((e) => e.type !== 'ProtectionProgrammeEnrolled');
    givenAccount(notEnrolled).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('PROTECTION_NOT_ENROLLED');
  });

  test('a claim id used before (even for another withdrawal) is PROTECTION_CLAIM_ALREADY_FILED', () => {
    const history = [
      ...lostTen,
      ...lost('5', '2022-03-10T12:00Z', 'w-2'),
      claimFiled({ claimId: 'claim-1', withdrawalId: 'w-2' }, '2022-03-15T00:00Z'),
      claimDenied(['NO_POLICE_REPORT'], { claimId: 'claim-1', withdrawalId: 'w-2' }, '2022-03-15T00:00Z'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim({ claimId: 'claim-1', withdrawalId: 'w-1' }), at(FILED_AT)).thenThrows('PROTECTION_CLAIM_ALREADY_FILED');
  });

  test('an unknown withdrawal is WITHDRAWAL_NOT_FOUND', () => {
    givenAccount(lostTen).withPrices(ETH_PRICE).when(claim({ withdrawalId: 'w-9' }), at(FILED_AT)).thenThrows('WITHDRAWAL_NOT_FOUND');
  });

  test('a withdrawal never reported as unauthorized is WITHDRAWAL_NOT_UNAUTHORIZED', () => {
    const history = [...protectedAccount, requested({ amount: '10' }, STOLEN_AT), approved('w-1', STOLEN_AT), settled('w-1', STOLEN_AT)];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('WITHDRAWAL_NOT_UNAUTHORIZED');
  });

  test('an unauthorized withdrawal that was prevented (no loss) is WITHDRAWAL_NOT_UNAUTHORIZED', () => {
    const history = [
      ...protectedAccount,
      requested({ amount: '10' }, STOLEN_AT),
      unauthorizedDetected({ incidentId: 'inc-2', amount: '10', outcome: 'prevented' }, '2022-03-10T11:05Z'),
      cancelled('w-1', '2022-03-10T11:05Z', 'unauthorized (incident inc-2)'),
    ];
    givenAccount(history).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('WITHDRAWAL_NOT_UNAUTHORIZED');
  });

  test('a withdrawal already claimed, approved or denied, is PROTECTION_WITHDRAWAL_ALREADY_CLAIMED', () => {
    const approvedBefore = [...lostTen, claimFiled({ claimId: 'claim-0' }, '2022-03-15T00:00Z'), claimApproved({ claimId: 'claim-0', claimedUsd: '31290', payoutUsd: '31290', compensatedAmount: '10' }, '2022-03-15T00:00Z')];
    const deniedBefore = [...lostTen, claimFiled({ claimId: 'claim-0' }, '2022-03-15T00:00Z'), claimDenied(['NO_POLICE_REPORT'], { claimId: 'claim-0' }, '2022-03-15T00:00Z')];
    givenAccount(approvedBefore).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('PROTECTION_WITHDRAWAL_ALREADY_CLAIMED');
    givenAccount(deniedBefore).withPrices(ETH_PRICE).when(claim(), at(FILED_AT)).thenThrows('PROTECTION_WITHDRAWAL_ALREADY_CLAIMED');
  });

  test('an asset without a recorded price is PRICE_NOT_RECORDED', () => {
    givenAccount(lostTen).withPrices({ BTC: '41929.5' }).when(claim(), at(FILED_AT)).thenThrows('PRICE_NOT_RECORDED');
  });
});

describe('a loss is compensated at most once: reimbursements and protection payouts together never exceed it', () => {
  const REIMBURSED_AT = '2022-03-12T00:00Z';
  const reimbursedEth = (amount: string, reimbursementId = 'r-1') => reimbursed({ reimbursementId, incidentId: 'inc-2', amount }, REIMBURSED_AT);
  const approvedFor = (amount: string, claimedUsd: string) => [
    claimFiled({}, '2022-03-15T00:00Z'),
    claimApproved({ claimedUsd, payoutUsd: claimedUsd, compensatedAmount: amount }, '2022-03-15T00:00Z'),
  ];
  const ETH = 10n ** 18n;

  test('a claim for a loss already reimbursed in full is denied LOSS_ALREADY_COMPENSATED', () => {
    givenAccount([...protectedAccount, ...lost('1'), reimbursedEth('1')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimDenied(['LOSS_ALREADY_COMPENSATED'], {}, FILED_AT)]);
  });

  test('a claim for a partly reimbursed loss pays only what is outstanding: 0.6 of 1 ETH', () => {
    givenAccount([...protectedAccount, ...lost('1'), reimbursedEth('0.4')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      .thenEvents([filed(), claimApproved({ claimedUsd: '1877.4', payoutUsd: '1877.4', compensatedAmount: '0.6' }, FILED_AT)])
      .thenState((state) => expect(lossOf(state, 'inc-2', 'ETH')).toEqual({ lostMinor: ETH, reimbursedMinor: (4n * ETH) / 10n, paidOutMinor: (6n * ETH) / 10n }));
  });

  test('after a full payout, a reimbursement of the same loss is REIMBURSEMENT_EXCEEDS_LOSS, by one wei', () => {
    givenAccount([...protectedAccount, ...lost('1'), ...approvedFor('1', '3129')])
      .withIncident('inc-2')
      .when(reimburse({ incidentId: 'inc-2', amount: '0.000000000000000001' }), at(FILED_AT))
      .thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('after a capped payout, exactly the unpaid share can be reimbursed, and not one wei more', () => {
    const cappedPayout = [
      claimFiled({}, '2022-03-15T00:00Z'),
      claimApproved({ claimedUsd: '312900', payoutUsd: '250000', capped: true, compensatedAmount: '79.897730904442313839' }, '2022-03-15T00:00Z'),
    ];
    const history = [...protectedAccount, ...lost('100'), ...cappedPayout];
    givenAccount(history)
      .withIncident('inc-2')
      .when(reimburse({ incidentId: 'inc-2', amount: '20.102269095557686162' }), at(FILED_AT))
      .thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
    givenAccount(history)
      .withIncident('inc-2')
      .when(reimburse({ reimbursementId: 'r-rest', incidentId: 'inc-2', amount: '20.102269095557686161' }), at(FILED_AT))
      .thenEvents([reimbursed({ reimbursementId: 'r-rest', incidentId: 'inc-2', amount: '20.102269095557686161' }, FILED_AT)])
      .thenState((state) => expect(lossOf(state, 'inc-2', 'ETH').lostMinor).toBe(100n * ETH));
  });

  test('the capped share is rounded up, so payout and reimbursement together never exceed the loss', () => {
    givenAccount([...protectedAccount, ...lost('100')])
      .withPrices(ETH_PRICE)
      .when(claim(), at(FILED_AT))
      // 100 ETH x 250000 / 312900 = 79.8977309044423138382... ETH, rounded up to the wei.
      .thenEvents([filed(), claimApproved({ claimedUsd: '312900', payoutUsd: '250000', capped: true, compensatedAmount: '79.897730904442313839' }, FILED_AT)]);
  });

  test('two losses in one incident and asset, one reimbursement: one claim is paid, the next finds nothing left', () => {
    const twoLosses = [...protectedAccount, ...lost('1', STOLEN_AT, 'w-1'), ...lost('1', '2022-03-10T11:10Z', 'w-2'), reimbursedEth('1')];
    givenAccount(twoLosses)
      .withPrices(ETH_PRICE)
      .when(claim({ withdrawalId: 'w-1' }), at(FILED_AT))
      .thenEvents([filed({ withdrawalId: 'w-1' }), claimApproved({ claimedUsd: '3129', payoutUsd: '3129', compensatedAmount: '1' }, FILED_AT)]);
    const paidOne = [...twoLosses, claimFiled({ claimId: 'claim-0', withdrawalId: 'w-1' }, '2022-03-15T00:00Z'),
      claimApproved({ claimId: 'claim-0', withdrawalId: 'w-1', claimedUsd: '3129', payoutUsd: '3129', compensatedAmount: '1' }, '2022-03-15T00:00Z')];
    givenAccount(paidOne)
      .withPrices(ETH_PRICE)
      .when(claim({ withdrawalId: 'w-2' }), at(FILED_AT))
      .thenEvents([filed({ withdrawalId: 'w-2' }), claimDenied(['LOSS_ALREADY_COMPENSATED'], { withdrawalId: 'w-2' }, FILED_AT)]);
  });

  test('a denial lists the compensated loss beside every other failed condition', () => {
    givenAccount([...protectedAccount, ...lost('1'), reimbursedEth('1')])
      .withPrices(ETH_PRICE)
      .when(claim({ questionnaireCompleted: false }), at(FILED_AT))
      .thenEvents([filed({ questionnaireCompleted: false }), claimDenied(['QUESTIONNAIRE_INCOMPLETE', 'LOSS_ALREADY_COMPENSATED'], {}, FILED_AT)]);
  });
});
