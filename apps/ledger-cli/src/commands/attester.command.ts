import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TWO_FACTOR_METHODS, SECOND_FACTOR_MAX_LIFETIME_SECONDS, type SecondFactorAction, type TwoFactorMethod } from '@app/domain';
import { attesterFromJwk, attesterKeysEnv, generateAttester, privateJwk, signProof } from '@app/ledger';
import { Command, Option, SubCommand } from 'nest-commander';
import { ExitCode, InvalidOptionValueError, RefusedError, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { GroupCommand } from '../group-command';
import type { StoreAccess } from '../open-store';
import { numberOption, stringOption } from '../options';

/** The variable `attester sign` takes the private key from (what `attester keygen` prints). */
export const ATTESTER_KEY_VARIABLE = 'LEDGER_ATTESTER_KEY';

/** Ids, assets and addresses as the ledger's DTOs accept them (the decider compares them with the command's). */
const CLAIM_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

function claimValue(): (value: string) => string {
  return (value) => {
    if (!CLAIM_PATTERN.test(value)) throw new InvalidOptionValueError(`must be 1 to 128 of A-Z a-z 0-9 _ . : - (got ${JSON.stringify(value)})`);
    return value;
  };
}

abstract class AttesterSubCommand<Options> extends LedgerCommand<Options> {
  protected override readonly storeAccess: StoreAccess = 'none';
}

interface KeygenOptions {
  readonly kid: string | undefined;
  readonly out: string | undefined;
}

/**
 * `ledger attester keygen [--kid KID] [--out FILE]`: a development attester, as two shell exports: the public JWK
 * set for the ledger (LEDGER_SECOND_FACTOR_KEYS) and the private JWK for `attester sign` (LEDGER_ATTESTER_KEY).
 */
@SubCommand({ name: 'keygen', description: 'make an Ed25519 attester key pair for development: prints LEDGER_SECOND_FACTOR_KEYS and LEDGER_ATTESTER_KEY as exports' })
export class AttesterKeygenCommand extends AttesterSubCommand<KeygenOptions> {
  @Option({ flags: '--kid <kid>', description: "the key id proofs name in their header (default: the key's RFC 7638 thumbprint)" })
  parseKid(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--out <file>', description: 'write the exports to this file (mode 0600, never overwritten) instead of stdout' })
  parseOut(value: string): string {
    if (value === '') throw new InvalidOptionValueError('must be a file path');
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): KeygenOptions {
    return { kid: stringOption(raw, 'kid'), out: stringOption(raw, 'out') };
  }

  protected async execute(options: KeygenOptions, context: CommandContext): Promise<number> {
    const attester = generateAttester(options.kid);
    // JWK members are base64url and fixed names: nothing in them needs escaping inside single quotes.
    const script = [
      `# attester ${attester.kid}: the ledger verifies with the public key; the private key belongs to the authentication service`,
      `export LEDGER_SECOND_FACTOR_KEYS='${attesterKeysEnv(attester)}'`,
      `export ${ATTESTER_KEY_VARIABLE}='${JSON.stringify(privateJwk(attester))}'`,
    ].join('\n');
    if (options.out !== undefined) {
      if (existsSync(options.out)) throw new RefusedError(`${options.out} exists already; a key file is never overwritten (remove it first to make a new key)`);
      mkdirSync(dirname(options.out), { recursive: true });
      writeFileSync(options.out, `${script}\n`, { mode: 0o600, flag: 'wx' });
    }
    await context.printResult({
      text: options.out === undefined ? script : `attester: key ${attester.kid} written to ${options.out} (mode 0600); source it where the server and the signer run`,
      json: { kid: attester.kid, file: options.out ?? null, ...(options.out === undefined ? { publicKeys: JSON.parse(attesterKeysEnv(attester)), privateKey: privateJwk(attester) } : {}) },
    });
    return ExitCode.OK;
  }
}

interface SignOptions {
  readonly account: string;
  readonly act: SecondFactorAction;
  readonly token: string;
  readonly amr: readonly TwoFactorMethod[];
  readonly asset: string;
  readonly address: string;
  readonly withdrawal: string | undefined;
  readonly amount: string | undefined;
  readonly ttl: number;
  readonly audience: string | undefined;
}

/**
 * `ledger attester sign --account ID --act withdrawal|whitelist --token TID --amr totp[,webauthn] --asset A
 * --address ADDR [--withdrawal WID --amount AMOUNT] [--ttl S]`: what the authentication service does once the
 * customer entered the factor: prints the proof (a compact JWS) for exactly that transaction.
 */
@SubCommand({ name: 'sign', description: `sign a second-factor proof for one transaction with the private key in ${ATTESTER_KEY_VARIABLE} (development and tests)` })
export class AttesterSignCommand extends AttesterSubCommand<SignOptions> {
  @Option({ flags: '--account <id>', description: 'the account id (claim sub)', required: true })
  parseAccount(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--act <act>', description: 'withdrawal or whitelist', required: true })
  parseAct(value: string): SecondFactorAction {
    if (value !== 'withdrawal' && value !== 'whitelist') throw new InvalidOptionValueError(`must be withdrawal or whitelist (got ${JSON.stringify(value)})`);
    return value;
  }

  @Option({ flags: '--token <tid>', description: 'the enrolled 2FA token whose factor was entered (claim tid)', required: true })
  parseToken(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--amr <methods>', description: `the methods entered, comma-separated, among ${TWO_FACTOR_METHODS.join(', ')}`, required: true })
  parseAmr(value: string): TwoFactorMethod[] {
    const methods = value.split(',');
    if (!methods.every((method) => (TWO_FACTOR_METHODS as readonly string[]).includes(method)) || new Set(methods).size !== methods.length) {
      throw new InvalidOptionValueError(`must list distinct methods among ${TWO_FACTOR_METHODS.join(', ')}, comma-separated (got ${JSON.stringify(value)})`);
    }
    return methods as TwoFactorMethod[];
  }

  @Option({ flags: '--asset <asset>', description: 'the asset, as the command sends it', required: true })
  parseAsset(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--address <address>', description: 'the destination address, as the command sends it', required: true })
  parseAddress(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--withdrawal <wid>', description: 'withdrawals: the withdrawal id' })
  parseWithdrawal(value: string): string {
    return claimValue()(value);
  }

  @Option({ flags: '--amount <amount>', description: 'withdrawals: the amount, exactly as the command sends it (canonical decimal)' })
  parseAmount(value: string): string {
    if (!/^(0|[1-9][0-9]{0,29})(\.[0-9]{0,17}[1-9])?$/.test(value)) {
      throw new InvalidOptionValueError(`must be a canonical decimal such as 1.5 (no sign, no leading or trailing zeros; got ${JSON.stringify(value)})`);
    }
    return value;
  }

  @Option({ flags: '--ttl <seconds>', description: `how long the proof lives, 1 to ${SECOND_FACTOR_MAX_LIFETIME_SECONDS} seconds (default 120)` })
  parseTtl(value: string): number {
    const ttl = /^[0-9]{1,3}$/.test(value) ? Number(value) : Number.NaN;
    if (!(ttl >= 1 && ttl <= SECOND_FACTOR_MAX_LIFETIME_SECONDS)) throw new InvalidOptionValueError(`must be a whole number of seconds from 1 to ${SECOND_FACTOR_MAX_LIFETIME_SECONDS} (got ${JSON.stringify(value)})`);
    return ttl;
  }

  @Option({ flags: '--audience <aud>', description: 'the audience claim (default: LEDGER_SECOND_FACTOR_AUDIENCE, as the ledger expects it)' })
  parseAudience(value: string): string {
    return claimValue()(value);
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): SignOptions {
    const act = stringOption(raw, 'act') as SecondFactorAction;
    const withdrawal = stringOption(raw, 'withdrawal');
    const amount = stringOption(raw, 'amount');
    if (act === 'withdrawal' && (withdrawal === undefined || amount === undefined)) throw new UsageError('a withdrawal proof needs --withdrawal and --amount');
    if (act === 'whitelist' && (withdrawal !== undefined || amount !== undefined)) throw new UsageError('a whitelist proof binds no --withdrawal or --amount');
    return {
      account: stringOption(raw, 'account')!,
      act,
      token: stringOption(raw, 'token')!,
      amr: raw['amr'] as TwoFactorMethod[],
      asset: stringOption(raw, 'asset')!,
      address: stringOption(raw, 'address')!,
      withdrawal,
      amount,
      ttl: numberOption(raw, 'ttl') ?? 120,
      audience: stringOption(raw, 'audience'),
    };
  }

  protected async execute(options: SignOptions, context: CommandContext): Promise<number> {
    const key = process.env[ATTESTER_KEY_VARIABLE];
    if (key === undefined || key === '') {
      throw new RefusedError(`${ATTESTER_KEY_VARIABLE} is not set: it holds the attester's private JWK, as \`ledger attester keygen\` prints it`);
    }
    let attester;
    try {
      attester = attesterFromJwk(key);
    } catch (error) {
      throw new RefusedError(`${ATTESTER_KEY_VARIABLE} is not an Ed25519 private JWK: ${(error as Error).message}`);
    }
    const proof = await signProof(attester, {
      accountId: options.account,
      act: options.act,
      tokenId: options.token,
      amr: options.amr,
      asset: options.asset,
      address: options.address,
      ...(options.withdrawal === undefined ? {} : { withdrawalId: options.withdrawal }),
      ...(options.amount === undefined ? {} : { amount: options.amount }),
      ttlSeconds: options.ttl,
      audience: options.audience ?? context.config.secondFactor.audience,
    });
    await context.printResult({ text: proof, json: { proof, kid: attester.kid } });
    return ExitCode.OK;
  }
}

/** `ledger attester <keygen|sign>`: stands in for the exchange's authentication service, for trials and tests. */
@Command({
  name: 'attester',
  description: "stand in for the exchange's authentication service: make a key pair, sign second-factor proofs",
  subCommands: [AttesterKeygenCommand, AttesterSignCommand],
})
export class AttesterCommand extends GroupCommand {
  protected readonly usage = 'attester keygen or attester sign';
}

export const ATTESTER_COMMANDS = [AttesterCommand, AttesterKeygenCommand, AttesterSignCommand];
