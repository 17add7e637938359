import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROLES, type Role } from './role';

/**
 * API keys. Each key has one role. Keys come from LEDGER_API_KEYS, or are
 * generated on first start and kept in `<data dir>/api-keys.json` as scrypt hashes only; the plaintext is shown
 * once. A key's id is public (it is what events and logs name); the key itself is never logged or stored.
 */
export const API_KEY_FILE = 'api-keys.json';
const GENERATED_PREFIX = 'lk_';
const ID_BYTES = 6;
const SECRET_BYTES = 32;
/** scrypt cost: about 40 ms per verification here, paid once per key per process (then cached as a digest). */
const SCRYPT_PARAMS: ScryptOptions = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const SCRYPT_KEY_LENGTH = 32;
/** A presented key longer than this is refused before any hashing. */
export const MAX_PRESENTED_KEY_LENGTH = 256;

/** A key as LEDGER_API_KEYS configures it: `role=key`. */
export interface ApiKeyConfig {
  readonly role: Role;
  readonly key: string;
}

export interface Principal {
  readonly id: string;
  readonly role: Role;
}

interface StoredKey {
  readonly id: string;
  readonly role: Role;
  readonly salt: string;
  readonly scrypt: string;
  readonly createdAt: string;
  readonly revokedAt?: string | null;
}

interface KeyFile {
  readonly version: 1;
  readonly keys: StoredKey[];
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function scrypt(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(secret, salt, SCRYPT_KEY_LENGTH, SCRYPT_PARAMS, (error, derived) => (error ? reject(error) : resolve(derived))),
  );
}

/** The public id of a configured key: a short digest, so that it names the key without revealing it. */
export function configuredKeyId(key: string): string {
  return `k-${sha256(key).toString('hex').slice(0, 12)}`;
}

/** Splits a generated key `lk_<id>.<secret>` into its parts; undefined for any other shape. */
function parseGenerated(key: string): { id: string; secret: string } | undefined {
  const match = /^lk_([a-f0-9]{12})\.([A-Za-z0-9_-]{20,100})$/.exec(key);
  return match ? { id: `g-${match[1]}`, secret: match[2]! } : undefined;
}

export interface GeneratedKey {
  readonly id: string;
  readonly role: Role;
  readonly key: string;
}

/** Keys kept as scrypt hashes in a JSON file (mode 0600): created, listed and revoked by the CLI. */
export class ApiKeyFile {
  constructor(readonly path: string) {}

  static inDataDir(dataDir: string): ApiKeyFile {
    return new ApiKeyFile(join(dataDir, API_KEY_FILE));
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  read(): StoredKey[] {
    if (!this.exists()) return [];
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as KeyFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.keys)) throw new Error(`${this.path} is not an API key file of version 1`);
    return parsed.keys;
  }

  modifiedAtMs(): number {
    return this.exists() ? statSync(this.path).mtimeMs : 0;
  }

  async create(role: Role, now: Date = new Date()): Promise<GeneratedKey> {
    const idHex = randomBytes(ID_BYTES).toString('hex');
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const salt = randomBytes(16);
    const stored: StoredKey = {
      id: `g-${idHex}`,
      role,
      salt: salt.toString('hex'),
      scrypt: (await scrypt(secret, salt)).toString('hex'),
      createdAt: now.toISOString(),
      revokedAt: null,
    };
    this.write([...this.read(), stored]);
    return { id: stored.id, role, key: `${GENERATED_PREFIX}${idHex}.${secret}` };
  }

  revoke(id: string, now: Date = new Date()): boolean {
    const keys = this.read();
    const target = keys.find((key) => key.id === id && !key.revokedAt);
    if (!target) return false;
    this.write(keys.map((key) => (key === target ? { ...key, revokedAt: now.toISOString() } : key)));
    return true;
  }

  private write(keys: StoredKey[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // Written aside and renamed, so that a crash never leaves a half-written key file.
    const temporary = `${this.path}.tmp-${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, keys } satisfies KeyFile, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
  }
}

/**
 * Authenticates presented keys. Configured keys are compared by SHA-256 digest in constant time; generated keys
 * are checked once with scrypt and then cached as a digest. Unknown shapes fail at once, without hashing work.
 */
export class ApiKeyRing {
  private readonly configured = new Map<string, { digest: Buffer; role: Role }>();
  private stored = new Map<string, StoredKey>();
  private storedReadAtMs = 0;
  private fileReloads = 0;
  private readonly verified = new Map<string, { digest: Buffer; role: Role }>();

  private constructor(private readonly file: ApiKeyFile | null) {}

  static fromConfig(keys: readonly ApiKeyConfig[]): ApiKeyRing {
    const ring = new ApiKeyRing(null);
    for (const { role, key } of keys) ring.configured.set(configuredKeyId(key), { digest: sha256(key), role });
    return ring;
  }

  static fromFile(file: ApiKeyFile): ApiKeyRing {
    const ring = new ApiKeyRing(file);
    ring.reloadIfChanged();
    return ring;
  }

  /** How many times the key file was read again because it changed (the first read not counted). */
  get reloads(): number {
    return this.fileReloads;
  }

  get size(): number {
    return this.configured.size + [...this.stored.values()].filter((key) => !key.revokedAt).length;
  }

  async authenticate(presented: string): Promise<Principal | undefined> {
    if (presented.length === 0 || presented.length > MAX_PRESENTED_KEY_LENGTH) return undefined;
    const generated = parseGenerated(presented);
    if (!generated) return this.authenticateConfigured(presented);
    return this.authenticateGenerated(generated.id, generated.secret, presented);
  }

  private authenticateConfigured(presented: string): Principal | undefined {
    const id = configuredKeyId(presented);
    const entry = this.configured.get(id);
    return entry && timingSafeEqual(entry.digest, sha256(presented)) ? { id, role: entry.role } : undefined;
  }

  private async authenticateGenerated(id: string, secret: string, presented: string): Promise<Principal | undefined> {
    // A key created or revoked by the CLI is seen without a restart.
    this.reloadIfChanged();
    const stored = this.stored.get(id);
    if (!stored || stored.revokedAt) {
      this.verified.delete(id);
      return undefined;
    }
    const cached = this.verified.get(id);
    if (cached) return timingSafeEqual(cached.digest, sha256(presented)) ? { id, role: cached.role } : undefined;
    const derived = await scrypt(secret, Buffer.from(stored.salt, 'hex'));
    const expected = Buffer.from(stored.scrypt, 'hex');
    if (derived.length !== expected.length || !timingSafeEqual(derived, expected)) return undefined;
    this.verified.set(id, { digest: sha256(presented), role: stored.role });
    return { id, role: stored.role };
  }

  private reloadIfChanged(): void {
    if (!this.file) return;
    const modified = this.file.modifiedAtMs();
    if (modified === this.storedReadAtMs) return;
    if (this.storedReadAtMs !== 0) this.fileReloads += 1;
    this.stored = new Map(this.file.read().map((key) => [key.id, key]));
    this.storedReadAtMs = modified;
  }
}

/**
 * The key ring a server starts with: LEDGER_API_KEYS when set; otherwise the key file, created with one key per
 * role on first start (the plaintext is returned so that the caller can show it once).
 */
export async function loadOrCreateKeyRing(
  configured: readonly ApiKeyConfig[] | null,
  dataDir: string,
): Promise<{ ring: ApiKeyRing; generated: GeneratedKey[] }> {
  if (configured) return { ring: ApiKeyRing.fromConfig(configured), generated: [] };
  const file = ApiKeyFile.inDataDir(dataDir);
  const generated: GeneratedKey[] = [];
  if (!file.exists()) {
    for (const role of ROLES) generated.push(await file.create(role));
  }
  return { ring: ApiKeyRing.fromFile(file), generated };
}
