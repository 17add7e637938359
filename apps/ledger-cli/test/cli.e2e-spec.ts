import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJsonl, openSqliteEventStore, type EventToAppend } from '@app/event-store';
import { CheckpointIssuer, checkpointPublicJwk, loadOrCreateCheckpointKey, systemClock, type Actor } from '@app/ledger';
import { catchUpMerkleTree, openSqliteReadStore, StoredMerkleTree } from '@app/projections';
import { writeFileSync } from 'node:fs';
import { requireCliBuild, runCli } from './support/cli-process';
import { SEEDED_EVENTS, seedLedger, withSqliteFile } from './support/ledger-files';

/** The actor of the filler events. */
const actor: Actor = { id: 'seed', role: 'service' };

function anEvent(type: string, data: unknown): EventToAppend {
  const commandId = randomUUID();
  return { eventId: randomUUID(), type, data, metadata: { commandId, correlationId: commandId, causationId: commandId, actor, recordedAt: '2022-01-17T00:00:00.000Z', schemaVersion: 1 } };
}

/** Changes one digit of alice's ETH deposit amount, keeping the JSON valid; returns the event's position. */
function tamperAliceDeposit(path: string): number {
  return withSqliteFile(path, (db) => {
    const row = db
      .prepare<[], { position: number; data: string }>("SELECT position, data FROM events WHERE stream_id = 'account-alice' AND revision = 1")
      .get()!;
    expect(row.data).toContain('"4836.26"');
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace('"4836.26"', '"4836.27"'), row.position);
    return row.position;
  });
}

describe('ledger CLI (the built dist/apps/ledger-cli)', () => {
  let dir: string;
  let dbPath: string;
  let env: Record<string, string>;

  beforeAll(() => requireCliBuild());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
    dbPath = join(dir, 'ledger.db');
    env = { LEDGER_EVENT_STORE: `sqlite:${dbPath}` };
    await seedLedger(dbPath);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('verify: a clean ledger exits 0, as one JSON object with --json and a summary without', async () => {
    const [json, human] = await Promise.all([runCli(['verify', '--json'], env), runCli(['verify'], env)]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      eventsChecked: SEEDED_EVENTS,
      streamsChecked: 2,
      headPosition: String(SEEDED_EVENTS),
      firstFailure: null,
      failures: [],
      failureCount: 0,
    });
    expect(json.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`verify: OK: ${SEEDED_EVENTS} events in 2 streams hold (log head at position ${SEEDED_EVENTS})\n`);
  });

  it('verify --against: the log against signed checkpoints and their public key; exit 1 names the position that changed', async () => {
    // What the running ledger does: keep the tree beside the read models and sign a checkpoint into a file.
    const store = openSqliteEventStore({ path: dbPath });
    const readStore = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    const { key } = loadOrCreateCheckpointKey(null, dir);
    const checkpoints = join(dir, 'checkpoints.jsonl');
    try {
      await catchUpMerkleTree(store, readStore);
      expect(await new CheckpointIssuer(store, readStore, key, { everyEvents: 1, everySeconds: 1, file: checkpoints }, systemClock).issueIfDue()).toBeDefined();
      await catchUpMerkleTree(store, readStore);
    } finally {
      await readStore.close();
      await store.close();
    }
    const publicKey = join(dir, 'checkpoint-key.pub.json');
    writeFileSync(publicKey, JSON.stringify(checkpointPublicJwk(key)));
    const args = ['verify', '--against', checkpoints, '--checkpoint-key', publicKey];

    const clean = await runCli(args, env);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expect(clean.stdout).toContain(`verify --against: OK: 1 signed checkpoint of ${checkpoints} hold (largest tree size ${SEEDED_EVENTS})`);

    const position = tamperAliceDeposit(dbPath);
    const [human, json] = await Promise.all([runCli(args, env), runCli([...args, '--json'], env)]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`verify --against: FAILED: rewritten under the checkpoint of tree size ${SEEDED_EVENTS} (line 1,`);
    expect(human.stdout).toContain(`at position ${position}`);
    expect(JSON.parse(json.stdout).checkpoints.failure).toMatchObject({ reason: 'rewritten', firstPosition: String(position) });

    const alone = await runCli(['verify', '--against', checkpoints], env);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--against and --checkpoint-key go together');
  });

  it('rebuild --merkle-tree folds the tree over the log again from nothing, into the read store beside it', async () => {
    const run = await runCli(['rebuild', '--merkle-tree'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^rebuild: Merkle tree rebuilt over ${SEEDED_EVENTS} events in \\d+\\.\\d s`));
    const readStore = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    try {
      expect((await StoredMerkleTree.open(readStore)).size).toBe(SEEDED_EVENTS);
    } finally {
      await readStore.close();
    }
    expect((await runCli(['rebuild', '--merkle-tree', '--projection', 'balances'], env)).code).toBe(2);
  });

  it('audit verify-checkpoint, verify-inclusion and verify-consistency check saved checkpoints and proofs with the public key alone', async () => {
    const store = openSqliteEventStore({ path: dbPath });
    const readStore = openSqliteReadStore({ path: join(dir, 'read-models.db') });
    const { key } = loadOrCreateCheckpointKey(null, dir);
    const issuer = new CheckpointIssuer(store, readStore, key, { everyEvents: 1, everySeconds: 1, file: null }, systemClock);
    const b64 = (hash: Buffer) => hash.toString('base64');
    let older;
    let newer;
    let inclusion;
    let consistency;
    try {
      await catchUpMerkleTree(store, readStore);
      older = await issuer.issueIfDue();
      await catchUpMerkleTree(store, readStore);
      await store.append('account-zed', [anEvent('AccountOpened', { accountId: 'zed' })], { expectedRevision: 'no_stream' });
      await catchUpMerkleTree(store, readStore);
      newer = await issuer.issueIfDue();
      const tree = await StoredMerkleTree.open(readStore);
      // As GET /v1/audit/proofs/inclusion and /consistency answer them.
      inclusion = { position: '2', leafIndex: 1, treeSize: newer!.treeSize, leafHash: b64((await tree.leaf(1)).hash), inclusionPath: (await tree.inclusionProof(1, newer!.treeSize)).map(b64) };
      consistency = { from: older!.treeSize, to: newer!.treeSize, consistencyPath: (await tree.consistencyProof(older!.treeSize, newer!.treeSize)).map(b64) };
    } finally {
      await readStore.close();
      await store.close();
    }
    const file = (name: string, value: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    };
    const keyFile = file('key.pub.json', checkpointPublicJwk(key));
    const [olderFile, newerFile] = [file('older.json', older), file('newer.json', newer)];
    const proofFile = file('inclusion.json', inclusion);
    const consistencyFile = file('consistency.json', consistency);

    const checkpoint = await runCli(['audit', 'verify-checkpoint', '--checkpoint-key', keyFile, '--checkpoint', newerFile], {});
    expect(checkpoint).toMatchObject({ code: 0, stderr: '' });
    expect(checkpoint.stdout).toContain(`audit verify-checkpoint: OK: tree size ${newer!.treeSize}, root ${newer!.rootHash}`);
    const included = await runCli(['audit', 'verify-inclusion', '--checkpoint-key', keyFile, '--checkpoint', newerFile, '--proof', proofFile], {});
    expect(included).toMatchObject({ code: 0 });
    expect(included.stdout).toContain(`the event at position 2 (leaf 1) is in the signed tree of ${newer!.treeSize} leaves`);
    const consistent = await runCli(['audit', 'verify-consistency', '--checkpoint-key', keyFile, '--from', olderFile, '--to', newerFile, '--proof', consistencyFile], {});
    expect(consistent).toMatchObject({ code: 0 });

    // Refused: a proof for another leaf, a proof against the older checkpoint, a forged signature, another key.
    const wrongLeaf = file('wrong.json', { ...inclusion!, leafIndex: 2 });
    expect((await runCli(['audit', 'verify-inclusion', '--checkpoint-key', keyFile, '--checkpoint', newerFile, '--proof', wrongLeaf], {})).code).toBe(1);
    const mismatched = await runCli(['audit', 'verify-inclusion', '--checkpoint-key', keyFile, '--checkpoint', olderFile, '--proof', proofFile], {});
    expect(mismatched.code).toBe(1);
    expect(mismatched.stdout).toContain(`the checkpoint signed ${older!.treeSize}`);
    const [h, p, sig] = newer!.jws.split('.');
    const forged = file('forged.json', { ...newer!, jws: `${h}.${p}.${sig!.slice(0, -4)}AAAA` });
    expect((await runCli(['audit', 'verify-checkpoint', '--checkpoint-key', keyFile, '--checkpoint', forged], {})).code).toBe(1);
    const reversed = await runCli(['audit', 'verify-consistency', '--checkpoint-key', keyFile, '--from', newerFile, '--to', olderFile, '--proof', consistencyFile], {});
    expect(reversed.code).toBe(1);
    expect((await runCli(['audit', 'verify-checkpoint', '--checkpoint-key', file('not-a-key', 'hello'), '--checkpoint', newerFile], {})).code).toBe(2);
    expect((await runCli(['audit'], {})).code).toBe(2);
    // Nine CLI processes one after another: about a second each on a busy 2-core machine.
  }, 30_000);

  it('verify: one changed byte exits 1 naming the stream, revision and position', async () => {
    const position = tamperAliceDeposit(dbPath);
    const [json, human] = await Promise.all([runCli(['verify', '--json'], env), runCli(['verify', '--stream', 'account-alice'], env)]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      firstFailure: { reason: 'HASH_MISMATCH', streamId: 'account-alice', revision: '1', position: String(position) },
    });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('verify: FAILED: 1 event does not hold; ');
    expect(human.stdout).toContain(`  HASH_MISMATCH at stream account-alice, revision 1, position ${position}`);
  });

  it('verify --stream on a stream that does not exist exits 1 naming it, rather than finding it clean', async () => {
    const [json, human] = await Promise.all([runCli(['verify', '--stream', 'account-alcie', '--json'], env), runCli(['verify', '--stream', 'account-alcie'], env)]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, streamId: 'account-alcie', code: 'STREAM_NOT_FOUND' });
    expect(human).toMatchObject({ code: 1, stdout: expect.stringContaining('verify: FAILED: stream account-alcie does not exist') });
  });

  it('verify --file: an exported file checked offline, without the ledger; a changed line exits 1 naming every failure', async () => {
    const exported = join(dir, 'all.jsonl');
    expect((await runCli(['export', '--all', '--out', exported], env)).code).toBe(0);
    rmSync(dbPath);
    const clean = await runCli(['verify', '--file', exported], env);
    expect(clean).toMatchObject({ code: 0, stdout: expect.stringContaining(`verify: OK: ${SEEDED_EVENTS} events in 2 streams hold (file ${exported}`) });
    const lines = readFileSync(exported, 'utf8').split('\n');
    const altered = lines.map((line) => line.replace('"4836.26"', '"4836.27"').replace('"443.93"', '"443.94"'));
    writeFileSync(exported, altered.join('\n'));
    const tampered = await runCli(['verify', '--file', exported, '--json'], env);
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.stdout);
    expect(report.failureCount).toBe(altered.filter((line, index) => line !== lines[index]).length);
    expect(report.failures.every((failure: { reason: string }) => failure.reason === 'HASH_MISMATCH')).toBe(true);
    expect((await runCli(['verify', '--file', exported, '--stream', 'account-alice'], env)).code).toBe(2);
  });

  it('export --all: one canonical JSON line per event, the same bytes as the library writes', async () => {
    const run = await runCli(['export', '--all'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line).position)).toEqual(['1', '2', '3', '4', '5']);
    const store = openSqliteEventStore({ path: dbPath });
    const expected: string[] = [];
    try {
      await exportJsonl(store, { all: true }, (line) => void expected.push(line));
    } finally {
      await store.close();
    }
    expect(lines).toEqual(expected);
  });

  it('export --stream to --out: the file holds that stream only, and the summary goes to stdout', async () => {
    const out = join(dir, 'bob.jsonl');
    const run = await runCli(['export', '--stream', 'account-bob', '--out', out, '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ events: 2, headPosition: String(SEEDED_EVENTS), out });
    const events = readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((event) => [event.streamId, event.revision, event.type])).toEqual([
      ['account-bob', '0', 'AccountOpened'],
      ['account-bob', '1', 'FundsDeposited'],
    ]);
  });

  it('export: an event whose JSON was broken exits 3 naming its position, and leaves no output file', async () => {
    withSqliteFile(dbPath, (db) => db.prepare("UPDATE events SET data = '{\"amount\":' WHERE position = 4").run());
    const out = join(dir, 'all.jsonl');
    const run = await runCli(['export', '--all', '--out', out], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the event at position 4 cannot be read');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unknown command, an unknown option and bad option values with exit 2 and the usage', async () => {
    const runs = await Promise.all([
      runCli(['audit-everything'], env),
      runCli(['verify', '--bogus'], env),
      runCli(['export', '--all', '--format', 'csv'], env),
      runCli(['export', '--stream', 'account-bob', '--all', '--from-position', '2'], env),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/Usage: ledger/);
    }
    expect(runs[0]!.stderr).toContain("unknown command 'audit-everything'");
    expect(runs[1]!.stderr).toContain("unknown option '--bogus'");
    expect(runs[2]!.stderr).toContain("argument 'csv' is invalid. Allowed choices are jsonl.");
    expect(runs[3]!.stderr).toContain('give exactly one of --stream <streamId> or --all');
  });

  it('exits 2 naming LEDGER_EVENT_STORE when it is malformed or names no ledger, and creates nothing', async () => {
    const missing = join(dir, 'typo', 'ledger.db');
    const [malformed, absent] = await Promise.all([
      runCli(['verify'], { LEDGER_EVENT_STORE: 'mysql://ledger' }),
      runCli(['verify', '--json'], { LEDGER_EVENT_STORE: `sqlite:${missing}` }),
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe('invalid configuration: LEDGER_EVENT_STORE must start with sqlite:, postgres:// or esdb:// (got "mysql://ledger")\n');
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(`LEDGER_EVENT_STORE names ${missing}, which does not exist`);
    expect(JSON.parse(absent.stdout)).toMatchObject({ error: { kind: 'config', exitCode: 2 } });
    expect(existsSync(missing)).toBe(false);
  });

  it('stops on SIGINT between two events, closes the store and exits 130', async () => {
    const store = openSqliteEventStore({ path: dbPath });
    try {
      const batch = (): EventToAppend[] =>
        Array.from({ length: 1_000 }, () => ({
          eventId: randomUUID(),
          type: 'Filler',
          data: { note: 'x'.repeat(200) },
          metadata: {
            commandId: randomUUID(),
            correlationId: 'filler',
            causationId: 'filler',
            actor,
            recordedAt: '2022-01-17T00:00:00.000Z',
            schemaVersion: 1,
          },
        }));
      // Enough events that the export is still running when the signal arrives (it yields every 1,000 events).
      await Promise.all(Array.from({ length: 15 }, () => store.append('filler', batch(), { expectedRevision: 'any' })));
    } finally {
      await store.close();
    }
    const run = await runCli(['export', '--all'], env, { onFirstOutput: (pid) => process.kill(pid, 'SIGINT') });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('ledger export: stopped by SIGINT');
    // Closed cleanly: SQLite removes the write-ahead log when the last connection closes, and only then.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
  });
});
