import { openEsdbEventStore } from './esdb-event-store';
import { parseEsdbConnectionString } from './esdb-connection';

const SECRET = 's3cret-p4ss';

describe('parseEsdbConnectionString', () => {
  let printed: jest.SpyInstance[];

  beforeEach(() => {
    printed = (['log', 'warn', 'error', 'info', 'debug'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation(() => undefined),
    );
  });

  afterEach(() => {
    for (const spy of printed) {
      for (const call of spy.mock.calls) expect(JSON.stringify(call)).not.toContain(SECRET);
      spy.mockRestore();
    }
  });

  it('reads gossip seeds, DNS discovery, credentials and options, and redacts the password', () => {
    const connection = parseEsdbConnectionString(
      `esdb://admin:${encodeURIComponent(SECRET)}@eventstore1:2111,eventstore2:2112,eventstore3?tls=true&defaultDeadline=20000&keepAliveInterval=15000`,
    );
    expect(connection.hosts).toEqual([
      { address: 'eventstore1', port: 2111 },
      { address: 'eventstore2', port: 2112 },
      { address: 'eventstore3', port: 2113 },
    ]);
    expect(connection.credentials).toEqual({ username: 'admin', password: SECRET });
    expect(connection).toMatchObject({ tls: true, discover: false, defaultDeadlineMs: 20_000, timings: { keepAliveInterval: 15_000 } });
    expect(connection.redacted).toBe('esdb://admin:***@eventstore1:2111,eventstore2:2112,eventstore3?tls=true&defaultDeadline=20000&keepAliveInterval=15000');
    expect(parseEsdbConnectionString('esdb+discover://cluster.example.com:2113?tls=false')).toMatchObject({
      discover: true,
      tls: false,
      credentials: undefined,
    });
  });

  it.each([
    ['throwOnAppendFailure=false', /throwOnAppendFailure must be true for the ledger: a refused append would pass for a success/],
    ['nodePreference=follower', /nodePreference must be leader for the ledger/],
    ['tlsVerifyCert=false', /tlsVerifyCert must be true for the ledger: the client ignores it/],
    ['mystery=1', /unknown option "mystery"/],
    ['defaultDeadline=0', /defaultDeadline must be a positive whole number/],
    ['tls=maybe', /tls must be true or false/],
    ['tls=true&TLS=true', /option tls is given twice/],
  ])('refuses %s, naming the option and never the credentials', (query, reason) => {
    const text = `esdb://admin:${SECRET}@node-1:2113?${query}`;
    expect(() => parseEsdbConnectionString(text)).toThrow(reason);
    expect(() => parseEsdbConnectionString(text)).not.toThrow(new RegExp(SECRET));
  });

  it('refuses malformed hosts and credentials, and credentials that would be sent without TLS', () => {
    expect(() => parseEsdbConnectionString(`esdb://admin:${SECRET}@node-1:99999`)).toThrow(/host 1 must be host\[:port\]/);
    expect(() => parseEsdbConnectionString(`esdb://${SECRET}@node-1`)).toThrow(/credentials must be user:password/);
    expect(() => parseEsdbConnectionString(`esdb://admin:${SECRET}@node-1?tls=false`)).toThrow(/without TLS/);
    expect(() => parseEsdbConnectionString(`mysql://admin:${SECRET}@node-1`)).toThrow(/expected esdb:\/\//);
    expect(() => parseEsdbConnectionString('esdb+discover://a:2113,b:2113')).toThrow(/exactly one host/);
  });

  it('refuses options that break its guarantees before connecting, and prints nothing', async () => {
    const opening = openEsdbEventStore({ connectionString: `esdb://admin:${SECRET}@127.0.0.1:1?throwOnAppendFailure=false` });
    await expect(opening).rejects.toThrow(/throwOnAppendFailure must be true/);
    await expect(openEsdbEventStore({ connectionString: `esdb://admin:${SECRET}@127.0.0.1:1?password=${SECRET}` })).rejects.toThrow(/unknown option "password"/);
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
  });
});
