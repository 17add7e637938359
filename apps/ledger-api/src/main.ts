import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratedKey } from '@app/access';
import { ConfigError, loadConfig, type LedgerConfig } from '@app/ledger';
import { createApp } from './app';
import { checkStartUp } from './start-up-checks';

/** With LEDGER_GENERATED_KEYS=file: where, in the data folder, the keys generated on first start are written. */
const GENERATED_KEYS_FILE = 'generated-api-keys.env';

/** In-flight requests get this long to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  await checkStartUp(config);
  let keysGenerated = false;
  const app = await createApp(config, {
    logLevels: config.logLevels,
    onKeysGenerated: (keys) => {
      keysGenerated = true;
      showGeneratedKeys(config, keys);
    },
  });
  const logger = new Logger('Ledger');
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing in-flight requests, then closing the event store`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    // Nest would run the modules' destroy hooks (closing the event store) before the HTTP server: close HTTP first,
    // so that in-flight requests finish against an open store and no new request is served meanwhile.
    closeHttpThenApp(app).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen(config.port, config.host);
  const where = config.eventStore.kind === 'sqlite' ? `sqlite:${config.eventStore.path}` : config.eventStore.kind;
  logger.log(`listening on http://${config.host}:${config.port} (event store ${where}); OpenAPI at /docs`);
  if (config.apiKeys === null && !keysGenerated) {
    // The keys were printed once, on the first start; whoever lost them needs to know how to get one without a reset.
    logger.log(
      `API keys: the generated keys of ${config.dataDir}/api-keys.json (printed once, at the first start). Lost one? ` +
        '`npm run ledger -- keys create --role <role>` prints a new key, `keys list` and `keys revoke --id <id>` retire the old',
    );
  }
  if (config.secondFactor.keys.length === 0) {
    // Not fatal: the requirement may be off, and deposits, reads and incident work need no proof.
    logger.warn(
      'no second-factor attester key is configured (LEDGER_SECOND_FACTOR_KEYS): while the platform requires a proof, ' +
        'every withdrawal and whitelisting is refused; `npm run ledger -- attester keygen` makes a development key',
    );
  } else {
    logger.log(`second-factor proofs accepted from ${config.secondFactor.keys.map((key) => key.kid).join(', ')} (audience ${config.secondFactor.audience})`);
  }
}

/** Shown once (only scrypt hashes are kept): shell export lines, to paste into the walkthrough or `source`. */
function showGeneratedKeys(config: LedgerConfig, keys: readonly GeneratedKey[]): void {
  const lines = keys.map((key) => `export LEDGER_KEY_${key.role.toUpperCase()}=${key.key}`);
  if (config.generatedKeys === 'stdout') {
    process.stdout.write(`\nAPI keys generated, one per role (shown once; stored hashed in ${config.dataDir}/api-keys.json):\n${lines.join('\n')}\n\n`);
    return;
  }
  // A container's logs are kept and shipped: the keys go to a file only its owner reads, and the log says where.
  const file = join(config.dataDir, GENERATED_KEYS_FILE);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  // The mode applies only when the file is created: a file left from an earlier first start is narrowed too.
  chmodSync(file, 0o600);
  process.stdout.write(`API keys generated, one per role: written to ${file} (mode 0600, nowhere else); read it once, then delete it\n`);
}

async function closeHttpThenApp(app: Awaited<ReturnType<typeof createApp>>): Promise<void> {
  await app.getHttpAdapter().close();
  await app.close();
}

main().catch((error: unknown) => {
  // A bad configuration names its variable; anything else at start-up is reported without a stack to the user.
  const message = error instanceof ConfigError ? error.message : `start-up failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
  console.error(message);
  process.exit(1);
});
