import { ROLES, type ApiKeyConfig, type Role } from '@app/access';
import type { EventStoreLocation } from '@app/event-store';
import { DEFAULT_ASOF_SNAPSHOT_EVERY, MAX_ASOF_SNAPSHOT_EVERY, type ReadStoreLocation } from '@app/projections';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AttesterKeyError, DEFAULT_SECOND_FACTOR_AUDIENCE, parseAttesterKeys, type AttesterKey } from './second-factor/attester-keys';
import { parseCheckpointKey } from './checkpoints/checkpoint';


export interface LedgerConfig {
  readonly port: number;
  readonly host: string;
  readonly eventStore: EventStoreLocation;
  /** Read models and checkpoints: beside a SQLite event store, in the same PostgreSQL database, or as configured. */
  readonly readStore: ReadStoreLocation;
  /** Null when LEDGER_API_KEYS is unset: keys are then generated on first start and kept hashed in dataDir. */
  readonly apiKeys: readonly ApiKeyConfig[] | null;
  /** Where the ledger keeps its own files (the key file; the SQLite stores by default). */
  readonly dataDir: string;
  /**
   * Where keys generated on first start are shown once (LEDGER_GENERATED_KEYS): `stdout` (a person at a terminal),
   * or `file`: `generated-api-keys.env` in dataDir, mode 0600, so that they never reach a container's logs.
   */
  readonly generatedKeys: 'stdout' | 'file';
  /** Requests each API key may send per second before it gets 429. */
  readonly rateLimitPerSecond: number;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** `inline`: the API process runs the projector; `off`: a separate `ledger project` process does. */
  readonly projector: 'inline' | 'off';
  /** `on`: this process raises the monitor's detections as alerts, halts and confirms (RiskAlertJob); `off`: it does not. */
  readonly riskMonitor: 'on' | 'off';
  /** What the server logs: LEDGER_LOG_LEVEL=error|warn|log|debug (each includes the ones before it). */
  readonly logLevels: Array<'error' | 'warn' | 'log' | 'debug'>;
  /** LEDGER_LOG_FORMAT: `text` (the default, for terminals) or `json` (one JSON object per line, for collectors). */
  readonly logFormat: 'text' | 'json';
  /** Who may attest a second factor (LEDGER_SECOND_FACTOR_KEYS), and the audience its proofs must name. */
  readonly secondFactor: { readonly keys: readonly AttesterKey[]; readonly audience: string };
  /** Signed checkpoints of the Merkle tree: the key (null: generated in dataDir), how often, and an external copy. */
  readonly checkpoints: CheckpointConfig;
  /** When /health/ready answers 200: how far behind the head every projection may be. */
  readonly readiness: ReadinessConfig;
  /**
   * LEDGER_ASOF_SNAPSHOT_EVERY: events between two snapshots of a read model that as-of reads start from (loss
   * totals); an as-of read folds at most about this many events after its snapshot. 10,000 by default.
   */
  readonly asOfSnapshotEvery: number;
  /** Where /metrics is served, and whether it needs a scrape token; null when neither is configured (not served). */
  readonly metrics: MetricsConfig | null;
}

export interface MetricsConfig {
  /** LEDGER_METRICS_TOKEN: the scraper sends `Authorization: Bearer <token>`; null: no token (a separate port only). */
  readonly token: string | null;
  /** LEDGER_METRICS_PORT: /metrics on its own listener (on HOST) rather than the API's port; null: the API's port. */
  readonly port: number | null;
}

export interface ReadinessConfig {
  /** LEDGER_READY_MAX_LAG_EVENTS: log positions a projection may be behind the head (10,000 by default). */
  readonly maxLagEvents: number;
  /** LEDGER_READY_MAX_LAG_SECONDS: how long a projection may have been behind (30 s by default). */
  readonly maxLagSeconds: number;
}

export interface CheckpointConfig {
  /** LEDGER_CHECKPOINTS: `on` (the default): the process that keeps the Merkle tree signs checkpoints; `off`: it does not. */
  readonly signing: 'on' | 'off';
  /** LEDGER_CHECKPOINT_KEY as given (validated); null: the key generated on first start in dataDir. */
  readonly key: string | null;
  /** A checkpoint once the tree has grown by this many events... */
  readonly everyEvents: number;
  /** ...or this many seconds after the last one, whichever comes first (never for no new event). */
  readonly everySeconds: number;
  /** LEDGER_CHECKPOINT_FILE: each checkpoint is also appended here as a JSON line (a copy outside the database). */
  readonly file: string | null;
  /** LEDGER_CHECKPOINT_WEBHOOK: each checkpoint is also POSTed here as JSON (http or https). */
  readonly webhook: string | null;
}

const LOG_LEVELS = ['error', 'warn', 'log', 'debug'] as const;

export const DEFAULT_EVENT_STORE = 'sqlite:./data/ledger.db';
export const MIN_API_KEY_LENGTH = 24;
export const DEFAULT_RATE_LIMIT_PER_SECOND = 1_000;

/** A location as an error may show it: a password or user name in it (scheme://user:secret@host) becomes "***". */
export function withoutCredentials(location: string): string {
  return location.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1***@');
}

/** A bad configuration value: start-up stops with this message, which names the variable. */
export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new ConfigError('PORT', `must be a whole number from 1 to 65535 (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

function parseHost(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(raw)) throw new ConfigError('HOST', `must be a host name or IP address (got ${JSON.stringify(raw)})`);
  return raw;
}

export function parseEventStoreLocation(raw: string | undefined, cwd = process.cwd()): EventStoreLocation {
  const value = raw === undefined || raw === '' ? DEFAULT_EVENT_STORE : raw;
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '' || path.includes('\0')) throw new ConfigError('LEDGER_EVENT_STORE', 'needs a file path after "sqlite:", such as sqlite:./data/ledger.db');
    if (path === ':memory:') throw new ConfigError('LEDGER_EVENT_STORE', 'must name a file: a ledger in memory would lose every event at exit');
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  if (/^esdb(\+discover)?:\/\//.test(value)) return { kind: 'esdb', url: value };
  throw new ConfigError('LEDGER_EVENT_STORE', `must start with sqlite:, postgres:// or esdb:// (got ${JSON.stringify(withoutCredentials(value))})`);
}

export function parseApiKeys(raw: string | undefined): ApiKeyConfig[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  return raw.split(',').map((entry, index) => {
    const separator = entry.indexOf('=');
    const role = entry.slice(0, separator).trim();
    const key = entry.slice(separator + 1).trim();
    if (separator < 0 || !ROLES.includes(role as Role)) {
      throw new ConfigError('LEDGER_API_KEYS', `entry ${index + 1} must be role=key with a role among ${ROLES.join(', ')}`);
    }
    if (key.length < MIN_API_KEY_LENGTH || !/^[A-Za-z0-9._~+/=-]+$/.test(key)) {
      throw new ConfigError('LEDGER_API_KEYS', `entry ${index + 1} (${role}) needs a key of at least ${MIN_API_KEY_LENGTH} URL-safe characters`);
    }
    return { role: role as Role, key };
  });
}

function parseRateLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_RATE_LIMIT_PER_SECOND;
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1) {
    throw new ConfigError('LEDGER_RATE_LIMIT_PER_SECOND', `must be a whole number from 1 to 9999999 (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

function parseCorsOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((origin) => {
    const trimmed = origin.trim();
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(trimmed)) {
      throw new ConfigError('LEDGER_CORS_ORIGINS', `must be a comma-separated list of origins such as https://ops.example.com (got ${JSON.stringify(trimmed)})`);
    }
    return trimmed;
  });
}

function parseLogLevel(raw: string | undefined): Array<(typeof LOG_LEVELS)[number]> {
  const value = raw === undefined || raw === '' ? 'log' : raw;
  const index = LOG_LEVELS.indexOf(value as (typeof LOG_LEVELS)[number]);
  if (index < 0) throw new ConfigError('LEDGER_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(raw)})`);
  return LOG_LEVELS.slice(0, index + 1);
}

/**
 * LEDGER_READ_STORE: `sqlite:<file>` or `postgres://...`. Unset: `read-models.db` beside a SQLite event store, the
 * same database for a PostgreSQL event store, and `<data dir>/read-models.db` for EventStoreDB.
 */
export function parseReadStoreLocation(raw: string | undefined, eventStore: EventStoreLocation, dataDir: string, cwd = process.cwd()): ReadStoreLocation {
  if (raw === undefined || raw === '') {
    if (eventStore.kind === 'postgres') return { kind: 'postgres', url: eventStore.url };
    return { kind: 'sqlite', path: resolve(eventStore.kind === 'sqlite' ? dirname(eventStore.path) : dataDir, 'read-models.db') };
  }
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (path === '' || path === ':memory:' || path.includes('\0')) {
      throw new ConfigError('LEDGER_READ_STORE', 'needs a file path after "sqlite:", such as sqlite:./data/read-models.db');
    }
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) return { kind: 'postgres', url: raw };
  throw new ConfigError('LEDGER_READ_STORE', `must start with sqlite: or postgres:// (got ${JSON.stringify(withoutCredentials(raw))})`);
}

function parseLogFormat(raw: string | undefined): 'text' | 'json' {
  if (raw === undefined || raw === '' || raw === 'text') return 'text';
  if (raw === 'json') return 'json';
  throw new ConfigError('LEDGER_LOG_FORMAT', `must be text or json (got ${JSON.stringify(raw)})`);
}

function parseGeneratedKeys(raw: string | undefined): 'stdout' | 'file' {
  if (raw === undefined || raw === '' || raw === 'stdout') return 'stdout';
  if (raw === 'file') return 'file';
  throw new ConfigError('LEDGER_GENERATED_KEYS', `must be stdout or file (got ${JSON.stringify(raw)})`);
}

function parseProjector(raw: string | undefined): 'inline' | 'off' {
  if (raw === undefined || raw === '' || raw === 'inline') return 'inline';
  if (raw === 'off') return 'off';
  throw new ConfigError('LEDGER_PROJECTOR', `must be inline or off (got ${JSON.stringify(raw)})`);
}

function parseDataDir(raw: string | undefined, eventStore: EventStoreLocation, cwd: string): string {
  if (raw !== undefined && raw !== '') {
    if (raw.includes('\0')) throw new ConfigError('LEDGER_DATA_DIR', 'must be a folder path');
    return isAbsolute(raw) ? raw : resolve(cwd, raw);
  }
  return eventStore.kind === 'sqlite' ? dirname(eventStore.path) : resolve(cwd, 'data');
}

function parseSecondFactor(keys: string | undefined, audience: string | undefined): LedgerConfig['secondFactor'] {
  let parsed: AttesterKey[];
  try {
    parsed = parseAttesterKeys(keys);
  } catch (error) {
    if (error instanceof AttesterKeyError) throw new ConfigError('LEDGER_SECOND_FACTOR_KEYS', error.message);
    throw error;
  }
  const aud = audience === undefined || audience === '' ? DEFAULT_SECOND_FACTOR_AUDIENCE : audience;
  if (!/^[A-Za-z0-9_.:/-]{1,128}$/.test(aud)) {
    throw new ConfigError('LEDGER_SECOND_FACTOR_AUDIENCE', `must be 1 to 128 of A-Z a-z 0-9 _ . : / - (got ${JSON.stringify(audience)})`);
  }
  return { keys: parsed, audience: aud };
}

function parseRiskMonitor(raw: string | undefined): 'on' | 'off' {
  if (raw === undefined || raw === '' || raw === 'on') return 'on';
  if (raw === 'off') return 'off';
  throw new ConfigError('LEDGER_RISK_MONITOR', `must be on or off (got ${JSON.stringify(raw)})`);
}

function wholeNumberIn(variable: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(variable, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

function parseCheckpoints(env: NodeJS.ProcessEnv, cwd: string): CheckpointConfig {
  const key = env.LEDGER_CHECKPOINT_KEY === undefined || env.LEDGER_CHECKPOINT_KEY === '' ? null : env.LEDGER_CHECKPOINT_KEY;
  if (key !== null) {
    try {
      parseCheckpointKey(key);
    } catch (error) {
      throw new ConfigError('LEDGER_CHECKPOINT_KEY', `must be an Ed25519 private key, as a JWK or PEM (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const file = env.LEDGER_CHECKPOINT_FILE === undefined || env.LEDGER_CHECKPOINT_FILE === '' ? null : resolve(cwd, env.LEDGER_CHECKPOINT_FILE);
  const signing = env.LEDGER_CHECKPOINTS === undefined || env.LEDGER_CHECKPOINTS === '' || env.LEDGER_CHECKPOINTS === 'on' ? 'on' : env.LEDGER_CHECKPOINTS === 'off' ? 'off' : null;
  if (signing === null) throw new ConfigError('LEDGER_CHECKPOINTS', `must be on or off (got ${JSON.stringify(env.LEDGER_CHECKPOINTS)})`);
  const webhookRaw = env.LEDGER_CHECKPOINT_WEBHOOK === undefined || env.LEDGER_CHECKPOINT_WEBHOOK === '' ? null : env.LEDGER_CHECKPOINT_WEBHOOK;
  let webhook: string | null = null;
  if (webhookRaw !== null) {
    let url: URL;
    try {
      url = new URL(webhookRaw);
    } catch {
      throw new ConfigError('LEDGER_CHECKPOINT_WEBHOOK', 'must be an http or https URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('LEDGER_CHECKPOINT_WEBHOOK', `must be an http or https URL (got ${url.protocol})`);
    webhook = url.toString();
  }
  return {
    signing,
    webhook,
    key,
    everyEvents: wholeNumberIn('LEDGER_CHECKPOINT_EVERY_EVENTS', env.LEDGER_CHECKPOINT_EVERY_EVENTS, 1_000, 1, 100_000_000),
    everySeconds: wholeNumberIn('LEDGER_CHECKPOINT_EVERY_SECONDS', env.LEDGER_CHECKPOINT_EVERY_SECONDS, 60, 1, 86_400),
    file,
  };
}

function parseReadiness(env: NodeJS.ProcessEnv): ReadinessConfig {
  return {
    maxLagEvents: wholeNumberIn('LEDGER_READY_MAX_LAG_EVENTS', env.LEDGER_READY_MAX_LAG_EVENTS, 10_000, 0, 1_000_000_000 - 1),
    maxLagSeconds: wholeNumberIn('LEDGER_READY_MAX_LAG_SECONDS', env.LEDGER_READY_MAX_LAG_SECONDS, 30, 1, 86_400),
  };
}

function parseMetrics(env: NodeJS.ProcessEnv, apiPort: number): MetricsConfig | null {
  const rawToken = env.LEDGER_METRICS_TOKEN;
  const token = rawToken === undefined || rawToken === '' ? null : rawToken;
  if (token !== null && (token.length < MIN_API_KEY_LENGTH || !/^[A-Za-z0-9._~+/=-]+$/.test(token))) {
    throw new ConfigError('LEDGER_METRICS_TOKEN', `must be at least ${MIN_API_KEY_LENGTH} URL-safe characters`);
  }
  const port = env.LEDGER_METRICS_PORT === undefined || env.LEDGER_METRICS_PORT === '' ? null : wholeNumberIn('LEDGER_METRICS_PORT', env.LEDGER_METRICS_PORT, 0, 1, 65_535);
  if (port !== null && port === apiPort) throw new ConfigError('LEDGER_METRICS_PORT', `must differ from PORT (${apiPort})`);
  return token === null && port === null ? null : { token, port };
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable, so that a bad value stops start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LedgerConfig {
  const eventStore = parseEventStoreLocation(env.LEDGER_EVENT_STORE, cwd);
  const dataDir = parseDataDir(env.LEDGER_DATA_DIR, eventStore, cwd);
  const port = parsePort(env.PORT);
  return {
    port,
    host: parseHost(env.HOST),
    eventStore,
    readStore: parseReadStoreLocation(env.LEDGER_READ_STORE, eventStore, dataDir, cwd),
    apiKeys: parseApiKeys(env.LEDGER_API_KEYS),
    dataDir,
    generatedKeys: parseGeneratedKeys(env.LEDGER_GENERATED_KEYS),
    rateLimitPerSecond: parseRateLimit(env.LEDGER_RATE_LIMIT_PER_SECOND),
    corsOrigins: parseCorsOrigins(env.LEDGER_CORS_ORIGINS),
    logLevels: parseLogLevel(env.LEDGER_LOG_LEVEL),
    logFormat: parseLogFormat(env.LEDGER_LOG_FORMAT),
    projector: parseProjector(env.LEDGER_PROJECTOR),
    secondFactor: parseSecondFactor(env.LEDGER_SECOND_FACTOR_KEYS, env.LEDGER_SECOND_FACTOR_AUDIENCE),
    riskMonitor: parseRiskMonitor(env.LEDGER_RISK_MONITOR),
    checkpoints: parseCheckpoints(env, cwd),
    readiness: parseReadiness(env),
    asOfSnapshotEvery: wholeNumberIn('LEDGER_ASOF_SNAPSHOT_EVERY', env.LEDGER_ASOF_SNAPSHOT_EVERY, DEFAULT_ASOF_SNAPSHOT_EVERY, 1, MAX_ASOF_SNAPSHOT_EVERY),
    metrics: parseMetrics(env, port),
  };
}
