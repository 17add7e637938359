import Database from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventHash, metadataWithoutChain, openSqliteEventStore, verifyEventStore, type EventStore } from '@app/event-store';
import { catchUpMerkleTree, openSqliteReadStore, type ReadStore } from '@app/projections';
import { DateTime } from 'luxon';
import { ManualClock } from '../clock';
import { generateAttester } from '../second-factor/attester';
import { CHECKPOINT_KEY_FILE, checkpointPublicJwk, loadOrCreateCheckpointKey, parseCheckpointPublicKey, verifyCheckpoint, type CheckpointKey } from './checkpoint';
import { CheckpointIssuer } from './checkpoint-issuer';
import { verifyAgainstCheckpoints } from './verify-against';

const STREAMS = ['account-a', 'account-b', 'account-c', 'platform'];

/**
 * Signed checkpoints and `verify --against` on a real SQLite ledger, tampered with behind the store's back the way
 * whoever holds the database could: consistently with the hash chain, which `verify` alone then passes.
 */
describe('signed checkpoints of the Merkle tree', () => {
  let dir: string;
  let path: string;
  let store: EventStore;
  let readStore: ReadStore;
  let key: CheckpointKey;
  let issuer: CheckpointIssuer;
  const clock = new ManualClock(DateTime.fromISO('2022-01-17T00:00:00Z'));
  const file = () => join(dir, 'checkpoints.jsonl');
  let n = 0;

  async function append(count: number, stream?: string): Promise<void> {
    for (let i = 0; i < count; i += 1, n += 1) {
      const metadata = { commandId: `c-${n}`, correlationId: `c-${n}`, causationId: `c-${n}`, actor: { id: 't', role: 'service' }, recordedAt: clock.now().toISO()!, schemaVersion: 1 };
      await store.append(stream ?? STREAMS[n % STREAMS.length]!, [{ eventId: randomUUID(), type: 'Noted', data: { n } }].map((e) => ({ ...e, metadata })), { expectedRevision: 'any' });
    }
  }

  /** Folds the tree and issues a checkpoint if one is due, as the job does once a second. */
  async function tick(): Promise<void> {
    await catchUpMerkleTree(store, readStore);
    await issuer.issueIfDue();
  }

  async function reopen(edit: (db: Database.Database) => void): Promise<void> {
    await store.close();
    const db = new Database(path);
    try {
      edit(db);
    } finally {
      db.close();
    }
    store = openSqliteEventStore({ path });
  }

  const lines = () => readFileSync(file(), 'utf8').split('\n');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoints-'));
    path = join(dir, 'ledger.db');
    store = openSqliteEventStore({ path });
    readStore = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    key = loadOrCreateCheckpointKey(null, dir).key;
    issuer = new CheckpointIssuer(store, readStore, key, { everyEvents: 100, everySeconds: 60, file: file() }, clock);
    n = 0;
    // 5 checkpoints: at 100, 201, 302, 403 and 504 leaves (each checkpoint is an event of the log too).
    for (let k = 0; k < 5; k += 1) {
      await append(100);
      await tick();
    }
  });
  afterEach(async () => {
    await readStore.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates its key once (mode 0600), signs a checkpoint every 100 events or 60 s, never one of itself alone, and keeps a copy in the file', async () => {
    expect(statSync(join(dir, CHECKPOINT_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateCheckpointKey(null, dir).key.kid).toBe(key.kid);
    const signed = lines().filter(Boolean).map((line) => JSON.parse(line));
    expect(signed.map((c) => c.treeSize)).toEqual([100, 201, 302, 403, 504]);
    const publicKey = parseCheckpointPublicKey(JSON.stringify(checkpointPublicJwk(key)));
    for (const c of signed) expect(await verifyCheckpoint(c.jws, publicKey)).toMatchObject({ treeSize: c.treeSize, rootHash: c.rootHash, kid: key.kid });
    // Idle, an hour later: the only new event is the last checkpoint itself.
    await tick();
    clock.advance({ hours: 1 });
    await tick();
    expect(lines().filter(Boolean)).toHaveLength(5);
    // One more event, and the time has passed: a checkpoint.
    await append(1);
    await tick();
    expect(JSON.parse(lines().filter(Boolean).pop()!).treeSize).toBe(506);
  });

  it('passes an untouched log; fails one whose stream tail was rewritten consistently, naming the position, though the hash chain passes', async () => {
    const publicKey = parseCheckpointPublicKey(JSON.stringify(checkpointPublicJwk(key)));
    expect(await verifyAgainstCheckpoints(store, lines(), publicKey, readStore)).toMatchObject({ ok: true, checkpointsChecked: 5, largestTreeSize: 504 });

    // The event at position 250 (account-b), and everything after it in its stream, rewritten with fresh hashes.
    await reopen((db) => {
      const row = db.prepare('SELECT * FROM events WHERE position = 250').get() as { stream_id: string; revision: number; type: string; metadata: string };
      const later = db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision').all(row.stream_id, row.revision) as Array<{ position: number; revision: number; type: string; data: string; metadata: string }>;
      let prevHash = (JSON.parse(row.metadata) as { prevHash: string }).prevHash;
      for (const event of later) {
        const data = event.position === 250 ? { n: 'rewritten' } : JSON.parse(event.data);
        const metadata = JSON.parse(event.metadata) as { hash: string; prevHash: string };
        const hash = eventHash({ streamId: row.stream_id, revision: BigInt(event.revision), type: event.type, data, metadata: metadataWithoutChain(metadata as never), prevHash });
        db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify({ ...metadata, prevHash, hash }), event.position);
        prevHash = hash;
      }
      db.prepare('UPDATE streams SET last_hash = ? WHERE stream_id = ?').run(prevHash, row.stream_id);
    });
    expect((await verifyEventStore(store)).ok).toBe(true);
    const result = await verifyAgainstCheckpoints(store, lines(), publicKey, readStore);
    expect(result).toMatchObject({ ok: false, checkpointsChecked: 3, failure: { reason: 'rewritten', firstLeafIndex: 249, firstPosition: 250n, checkpoint: { treeSize: 302 } } });
  });

  it('fails a log with a stream deleted (truncated under the checkpoints), or two events swapped, naming the first position', async () => {
    const publicKey = parseCheckpointPublicKey(JSON.stringify(checkpointPublicJwk(key)));
    await reopen((db) => {
      // Two events of different streams swap places in the log (positions 150 and 151): each stream's chain holds.
      db.prepare('UPDATE events SET position = -150 WHERE position = 150').run();
      db.prepare('UPDATE events SET position = 150 WHERE position = 151').run();
      db.prepare('UPDATE events SET position = 151 WHERE position = -150').run();
    });
    expect((await verifyEventStore(store)).ok).toBe(true);
    expect(await verifyAgainstCheckpoints(store, lines(), publicKey, readStore)).toMatchObject({ ok: false, failure: { reason: 'rewritten', firstPosition: 150n, checkpoint: { treeSize: 201 } } });

    await reopen((db) => {
      db.prepare("DELETE FROM events WHERE stream_id = 'platform'").run();
      db.prepare("DELETE FROM streams WHERE stream_id = 'platform'").run();
    });
    expect((await verifyEventStore(store)).ok).toBe(true);
    const deleted = await verifyAgainstCheckpoints(store, lines(), publicKey, readStore);
    // The platform stream's first event was at position 4 (n = 3): every checkpoint's history lost it.
    expect(deleted).toMatchObject({ ok: false, checkpointsChecked: 1, failure: { checkpoint: { treeSize: 100 }, firstPosition: 4n } });
  });

  it('also POSTs each checkpoint to a webhook, and logs (without failing) a webhook that refuses it', async () => {
    const received: string[] = [];
    let status = 204;
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
    const errors: string[] = [];
    try {
      const hooked = new CheckpointIssuer(store, readStore, key, { everyEvents: 100, everySeconds: 60, file: file(), webhook: url }, clock, { error: (m) => void errors.push(m) });
      await append(100);
      await catchUpMerkleTree(store, readStore);
      const sent = await hooked.issueIfDue();
      expect(received.map((body) => JSON.parse(body))).toEqual([sent]);
      status = 500;
      await append(100);
      await catchUpMerkleTree(store, readStore);
      const refused = await hooked.issueIfDue();
      expect(refused).toBeDefined();
      expect(received).toHaveLength(4);
      expect(errors).toEqual([`checkpoint of tree size ${refused!.treeSize} not delivered to the webhook after 3 attempts (HTTP 500); it is on the checkpoints stream`]);
      expect(JSON.parse(lines().filter(Boolean).pop()!)).toEqual(refused);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a checkpoint signed by another key, or edited, naming its line', async () => {
    const publicKey = parseCheckpointPublicKey(JSON.stringify(checkpointPublicJwk(key)));
    const other = generateAttester();
    const forged = lines().filter(Boolean);
    const third = JSON.parse(forged[2]!) as { jws: string };
    const [header, payload] = third.jws.split('.');
    const body = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { rootHash: string };
    const edited = Buffer.from(JSON.stringify({ ...body, rootHash: Buffer.alloc(32).toString('base64') })).toString('base64url');
    forged[2] = JSON.stringify({ ...third, jws: `${header}.${edited}.${third.jws.split('.')[2]}` });
    writeFileSync(file(), `${forged.join('\n')}\n`);
    expect(await verifyAgainstCheckpoints(store, lines(), publicKey, readStore)).toMatchObject({ ok: false, failure: { reason: 'bad-checkpoint', line: 3 } });
    const otherKey = parseCheckpointPublicKey(JSON.stringify(checkpointPublicJwk(other)));
    expect(await verifyAgainstCheckpoints(store, lines(), otherKey, readStore)).toMatchObject({ ok: false, failure: { reason: 'bad-checkpoint', line: 1 } });
  });
});
