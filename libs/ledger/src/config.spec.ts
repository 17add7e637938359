import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('defaults to port 3000 on 127.0.0.1 and the embedded store at ./data/ledger.db', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.eventStore).toEqual({ kind: 'sqlite', path: `${process.cwd()}/data/ledger.db` });
    expect(config.apiKeys).toBeNull();
  });

  it.each([
    [{ PORT: '0' }, 'PORT'],
    [{ PORT: '3000x' }, 'PORT'],
    [{ PORT: '65536' }, 'PORT'],
    [{ HOST: 'bad host' }, 'HOST'],
    [{ LEDGER_EVENT_STORE: 'redis://x' }, 'LEDGER_EVENT_STORE'],
    [{ LEDGER_EVENT_STORE: 'sqlite:' }, 'LEDGER_EVENT_STORE'],
    [{ LEDGER_EVENT_STORE: 'sqlite::memory:' }, 'LEDGER_EVENT_STORE'],
    [{ LEDGER_API_KEYS: 'service' }, 'LEDGER_API_KEYS'],
    [{ LEDGER_API_KEYS: 'root=0123456789abcdef0123456789' }, 'LEDGER_API_KEYS'],
    [{ LEDGER_API_KEYS: 'service=short' }, 'LEDGER_API_KEYS'],
    [{ LEDGER_CHECKPOINT_KEY: 'not a key' }, 'LEDGER_CHECKPOINT_KEY'],
    [{ LEDGER_CHECKPOINT_KEY: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}' }, 'LEDGER_CHECKPOINT_KEY'],
    [{ LEDGER_CHECKPOINT_EVERY_EVENTS: '0' }, 'LEDGER_CHECKPOINT_EVERY_EVENTS'],
    [{ LEDGER_CHECKPOINTS: 'yes' }, 'LEDGER_CHECKPOINTS'],
    [{ LEDGER_CHECKPOINT_WEBHOOK: 'ftp://audit.example/in' }, 'LEDGER_CHECKPOINT_WEBHOOK'],
    [{ LEDGER_CHECKPOINT_WEBHOOK: 'not a url' }, 'LEDGER_CHECKPOINT_WEBHOOK'],
    [{ LEDGER_CHECKPOINT_EVERY_SECONDS: '1h' }, 'LEDGER_CHECKPOINT_EVERY_SECONDS'],
    [{ LEDGER_READY_MAX_LAG_EVENTS: '-1' }, 'LEDGER_READY_MAX_LAG_EVENTS'],
    [{ LEDGER_READY_MAX_LAG_SECONDS: '0' }, 'LEDGER_READY_MAX_LAG_SECONDS'],
    [{ LEDGER_METRICS_TOKEN: 'short' }, 'LEDGER_METRICS_TOKEN'],
    [{ LEDGER_LOG_FORMAT: 'yaml' }, 'LEDGER_LOG_FORMAT'],
    [{ LEDGER_METRICS_PORT: '3000' }, 'LEDGER_METRICS_PORT'],
    [{ LEDGER_METRICS_PORT: '70000' }, 'LEDGER_METRICS_PORT'],
    [{ LEDGER_ASOF_SNAPSHOT_EVERY: '0' }, 'LEDGER_ASOF_SNAPSHOT_EVERY'],
    [{ LEDGER_ASOF_SNAPSHOT_EVERY: '100000001' }, 'LEDGER_ASOF_SNAPSHOT_EVERY'],
    [{ LEDGER_ASOF_SNAPSHOT_EVERY: '1e4' }, 'LEDGER_ASOF_SNAPSHOT_EVERY'],
  ])('refuses %p with a message naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });

  it('never shows the credentials of a location it refuses', () => {
    for (const [variable, value] of [
      ['LEDGER_EVENT_STORE', 'mysql://ledger:hunter2@db.internal/ledger'],
      ['LEDGER_READ_STORE', 'mongodb://admin:hunter2@db.internal'],
    ] as const) {
      const refusal = (() => {
        try {
          loadConfig({ [variable]: value });
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })();
      expect(refusal).toMatch(new RegExp(`^invalid configuration: ${variable} .*\\*\\*\\*@db\\.internal`));
      expect(refusal).not.toContain('hunter2');
    }
  });

  it('is ready while every projection is at most 10,000 events and 30 s behind, unless configured', () => {
    expect(loadConfig({}).readiness).toEqual({ maxLagEvents: 10_000, maxLagSeconds: 30 });
    expect(loadConfig({ LEDGER_READY_MAX_LAG_EVENTS: '0', LEDGER_READY_MAX_LAG_SECONDS: '5' }).readiness).toEqual({ maxLagEvents: 0, maxLagSeconds: 5 });
  });

  it('keeps an as-of snapshot every 10,000 events unless configured', () => {
    expect(loadConfig({}).asOfSnapshotEvery).toBe(10_000);
    expect(loadConfig({ LEDGER_ASOF_SNAPSHOT_EVERY: '500' }).asOfSnapshotEvery).toBe(500);
  });

  it('serves no /metrics unless a scrape token or a port is configured', () => {
    expect(loadConfig({}).metrics).toBeNull();
    expect(loadConfig({ LEDGER_METRICS_PORT: '9464' }).metrics).toEqual({ token: null, port: 9464 });
    expect(loadConfig({ LEDGER_METRICS_TOKEN: 'scrape-token-0123456789abcdef' }).metrics).toEqual({ token: 'scrape-token-0123456789abcdef', port: null });
  });

  it('signs a checkpoint every 1,000 events or 60 s by default, with a key generated in the data folder', () => {
    expect(loadConfig({}).checkpoints).toEqual({ signing: 'on', webhook: null, key: null, everyEvents: 1_000, everySeconds: 60, file: null });
    expect(loadConfig({ LEDGER_CHECKPOINT_FILE: 'audit/checkpoints.jsonl', LEDGER_CHECKPOINT_EVERY_SECONDS: '5' }, '/srv').checkpoints).toMatchObject({ file: '/srv/audit/checkpoints.jsonl', everySeconds: 5 });
  });

  it('accepts postgres and esdb locations and role=key lists', () => {
    expect(loadConfig({ LEDGER_EVENT_STORE: 'postgres://localhost/ledger' }).eventStore.kind).toBe('postgres');
    expect(loadConfig({ LEDGER_EVENT_STORE: 'esdb://a:2113,b:2113?tls=true' }).eventStore.kind).toBe('esdb');
    const keys = loadConfig({ LEDGER_API_KEYS: 'service=0123456789abcdef01234567,admin=abcdefghijklmnopqrstuvwxyz' }).apiKeys;
    expect(keys).toEqual([
      { role: 'service', key: '0123456789abcdef01234567' },
      { role: 'admin', key: 'abcdefghijklmnopqrstuvwxyz' },
    ]);
  });
});
