import { ApiKeyFile, ROLES, type Role } from '@app/access';
import type { LedgerConfig } from '@app/ledger';
import { Command, Option, SubCommand } from 'nest-commander';
import { ExitCode, InvalidOptionValueError, RefusedError, UsageError } from '../cli-errors';
import { LedgerCommand, type CommandContext } from '../ledger-command';
import { GroupCommand } from '../group-command';
import type { StoreAccess } from '../open-store';
import { stringOption } from '../options';

/** Longest key id accepted on the command line; generated ids are `g-` and 12 hex digits. */
const MAX_KEY_ID_CHARS = 64;

/**
 * The key file the server falls back on when LEDGER_API_KEYS is unset (`<data dir>/api-keys.json`, scrypt hashes
 * only). With LEDGER_API_KEYS set the server never reads that file, so changing it would change nothing: refused.
 */
function keyFileFor(config: LedgerConfig): ApiKeyFile {
  if (config.apiKeys !== null) {
    throw new RefusedError(
      'LEDGER_API_KEYS is set, so the server takes its keys from that variable and never reads the key file; ' +
        'change LEDGER_API_KEYS to add or remove a key, or unset it to use generated keys managed here',
    );
  }
  return ApiKeyFile.inDataDir(config.dataDir);
}

/** The sub-commands share this: they need the configuration only, not the event store. */
abstract class KeysSubCommand<Options> extends LedgerCommand<Options> {
  protected override readonly storeAccess: StoreAccess = 'none';
}

/** `ledger keys list [--json]`: every key in the file, without its hash. */
@SubCommand({ name: 'list', description: 'list the generated API keys: id, role, created, revoked (never the keys or their hashes)' })
export class KeysListCommand extends KeysSubCommand<Record<string, never>> {
  protected parseOptions(): Record<string, never> {
    return {};
  }

  protected async execute(_options: Record<string, never>, context: CommandContext): Promise<number> {
    const file = keyFileFor(context.config);
    // Picked field by field, so that salt and hash never reach the output whatever the file holds.
    const keys = file.read().map((key) => ({ id: key.id, role: key.role, createdAt: key.createdAt, revokedAt: key.revokedAt ?? null }));
    const table = keys.map((key) => `${key.id.padEnd(16)} ${key.role.padEnd(8)} ${key.createdAt.padEnd(24)} ${key.revokedAt ?? 'active'}`);
    const text = file.exists()
      ? [`${'ID'.padEnd(16)} ${'ROLE'.padEnd(8)} ${'CREATED'.padEnd(24)} REVOKED`, ...table].join('\n')
      : `keys: no key file yet (${file.path}); the server creates one key per role on its first start, or use keys create`;
    await context.printResult({ text, json: { file: file.path, keys } });
    return ExitCode.OK;
  }
}

interface KeysCreateOptions {
  readonly role: Role;
}

/** `ledger keys create --role ROLE [--json]`: a new key, printed once as a shell export. */
@SubCommand({ name: 'create', description: 'generate a key for a role and print it once, as an export line for the shell' })
export class KeysCreateCommand extends KeysSubCommand<KeysCreateOptions> {
  @Option({ flags: '--role <role>', description: `the key's role: ${ROLES.join(', ')}`, required: true })
  parseRole(value: string): Role {
    if (!(ROLES as readonly string[]).includes(value)) throw new InvalidOptionValueError(`must be one of ${ROLES.join(', ')} (got ${JSON.stringify(value)})`);
    return value as Role;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): KeysCreateOptions {
    return { role: stringOption(raw, 'role') as Role };
  }

  protected async execute(options: KeysCreateOptions, context: CommandContext): Promise<number> {
    const file = keyFileFor(context.config);
    const created = await file.create(options.role);
    const createdAt = file.read().find((key) => key.id === created.id)?.createdAt ?? null;
    // stdout stays a shell script (`eval "$(ledger keys create --role admin)"`): the id goes in a comment.
    const text = [
      `export LEDGER_KEY_${created.role.toUpperCase()}=${created.key}`,
      `# key id ${created.id} (role ${created.role}); shown this once, stored hashed in ${file.path}`,
    ].join('\n');
    await context.printResult({ text, json: { id: created.id, role: created.role, key: created.key, createdAt, file: file.path } });
    return ExitCode.OK;
  }
}

interface KeysRevokeOptions {
  readonly id: string;
}

/** `ledger keys revoke --id ID [--json]`: the server refuses the key from its next request on. */
@SubCommand({ name: 'revoke', description: 'revoke a generated key by its id (the server refuses it from its next request)' })
export class KeysRevokeCommand extends KeysSubCommand<KeysRevokeOptions> {
  @Option({ flags: '--id <id>', description: 'the key id, as keys list shows it (g-...)', required: true })
  parseId(value: string): string {
    if (value === '' || value.length > MAX_KEY_ID_CHARS) throw new InvalidOptionValueError(`must be a key id such as g-3f9a0c21d4e5`);
    return value;
  }

  protected parseOptions(_params: readonly string[], raw: Readonly<Record<string, unknown>>): KeysRevokeOptions {
    return { id: stringOption(raw, 'id')! };
  }

  protected async execute(options: KeysRevokeOptions, context: CommandContext): Promise<number> {
    const file = keyFileFor(context.config);
    const existing = file.read().find((key) => key.id === options.id);
    if (existing === undefined) throw new UsageError(`no key has id ${options.id} in ${file.path} (keys list shows the ids)`);
    const revokedNow = file.revoke(options.id);
    const stored = file.read().find((key) => key.id === options.id)!;
    const activeOfRole = file.read().filter((key) => key.role === stored.role && !key.revokedAt).length;
    if (revokedNow && activeOfRole === 0) {
      process.stderr.write(`keys: no active ${stored.role} key is left; keys create --role ${stored.role} makes one\n`);
    }
    const text = revokedNow
      ? `keys: revoked ${stored.id} (role ${stored.role}) at ${stored.revokedAt}`
      : `keys: ${stored.id} (role ${stored.role}) was already revoked at ${stored.revokedAt}`;
    await context.printResult({ text, json: { id: stored.id, role: stored.role, revokedAt: stored.revokedAt ?? null, alreadyRevoked: !revokedNow } });
    return ExitCode.OK;
  }
}

/**
 * `ledger keys <list|create|revoke>`: the generated API keys of the data folder (the access-control issue). Not a
 * LedgerCommand: an option of its own (--json) would be taken from its sub-commands' arguments by commander.
 */
@Command({
  name: 'keys',
  description: 'manage the generated API keys in the data folder (not those of LEDGER_API_KEYS)',
  subCommands: [KeysListCommand, KeysCreateCommand, KeysRevokeCommand],
})
export class KeysCommand extends GroupCommand {
  protected readonly usage = 'keys list, keys create --role ROLE or keys revoke --id ID';
}

/** The providers of `keys` and its sub-commands, for the CLI module. */
export const KEYS_COMMANDS = [KeysCommand, KeysListCommand, KeysCreateCommand, KeysRevokeCommand];
