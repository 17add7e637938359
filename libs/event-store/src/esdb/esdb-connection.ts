import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { NativeClient, type EndPoint } from './esdb-client';

/**
 * The EventStoreDB connection string, parsed and checked by the adapter rather than by the client, because the
 * client's own parser passes through settings that break the adapter's guarantees and prints the whole string
 * (password included) when it warns about an option or fails on one. Nothing here ever puts a credential in a
 * message: errors name the option or the part of the string, never its value.
 */
export interface EsdbConnection {
  /** The connection string with its password replaced by `***`: safe to print. */
  readonly redacted: string;
  /** `esdb+discover://`: the single host is a DNS name for the cluster's gossip. */
  readonly discover: boolean;
  readonly hosts: readonly EndPoint[];
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  readonly tls: boolean;
  readonly tlsCAFile: string | undefined;
  readonly userCertFile: string | undefined;
  readonly userKeyFile: string | undefined;
  /** The deadline of each call; the client sends it to the server as an absolute time on this machine's clock. */
  readonly defaultDeadlineMs: number | undefined;
  readonly timings: Readonly<Partial<Record<TimingOption, number>>>;
  readonly connectionName: string | undefined;
}

type TimingOption = 'keepAliveInterval' | 'keepAliveTimeout' | 'discoveryInterval' | 'gossipTimeout' | 'maxDiscoverAttempts';
/** Named once as a record's keys, so that an option added to TimingOption and left out here fails to compile. */
const TIMING_OPTION_NAMES: Readonly<Record<TimingOption, true>> = {
  keepAliveInterval: true,
  keepAliveTimeout: true,
  discoveryInterval: true,
  gossipTimeout: true,
  maxDiscoverAttempts: true,
};
const TIMING_OPTIONS = Object.keys(TIMING_OPTION_NAMES) as TimingOption[];
const FILE_OPTIONS = ['tlsCAFile', 'userCertFile', 'userKeyFile'] as const;

/**
 * Options that would break what the adapter promises, with the reason. `throwOnAppendFailure=false` turns a
 * wrong expected version into a "success: false" result, which the adapter would take as a written command record;
 * a node preference other than the leader serves reads from a follower that may not hold the append just made;
 * `tlsVerifyCert=false` is ignored by the client (and warned about, with the whole string).
 */
const REFUSED_VALUES: Readonly<Record<string, { readonly allowed: string; readonly why: string }>> = {
  throwOnAppendFailure: { allowed: 'true', why: 'a refused append would pass for a success' },
  nodePreference: { allowed: 'leader', why: 'a follower may not hold the append just made, so reads would be stale' },
  tlsVerifyCert: { allowed: 'true', why: 'the client ignores it; name the CA with tlsCAFile instead' },
};

const KNOWN_OPTIONS = [
  'tls',
  'defaultDeadline',
  'connectionName',
  ...FILE_OPTIONS,
  ...TIMING_OPTIONS,
  ...Object.keys(REFUSED_VALUES),
];
const flat = (key: string): string => key.trim().toLowerCase().replace(/[_-]/g, '');
const OPTION_BY_FLAT_NAME = new Map(KNOWN_OPTIONS.map((option) => [flat(option), option]));

const SHAPE = /^(esdb|esdb\+discover):\/\/(?:([^@/?]*)@)?([^/?@]*)\/?(?:\?(.*))?$/;
const HOST = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

export class EsdbConnectionStringError extends Error {
  constructor(reason: string) {
    super(`invalid EventStoreDB connection string: ${reason}`);
  }
}

export function parseEsdbConnectionString(text: string): EsdbConnection {
  if (typeof text !== 'string') throw new EsdbConnectionStringError('it must be a string');
  const match = SHAPE.exec(text.trim());
  if (match === null) {
    throw new EsdbConnectionStringError('expected esdb://[user:password@]host[:port][,host[:port]...][?key=value&...] or esdb+discover://...');
  }
  const [, scheme, userInfo, hostList, query] = match;
  const credentials = userInfo === undefined ? undefined : parseCredentials(userInfo);
  const hosts = hostList!.split(',').map(parseHost);
  const options = parseQuery(query);
  const discover = scheme === 'esdb+discover';
  if (discover && hosts.length !== 1) throw new EsdbConnectionStringError('esdb+discover:// takes exactly one host (the cluster\'s DNS name)');
  const tls = options.get('tls') === undefined ? true : parseBoolean('tls', options.get('tls')!);
  if (credentials !== undefined && !tls) {
    throw new EsdbConnectionStringError('credentials are given but tls=false: the client sends none without TLS');
  }
  const timings: Partial<Record<TimingOption, number>> = {};
  for (const option of TIMING_OPTIONS) {
    const value = options.get(option);
    if (value !== undefined) timings[option] = parsePositiveInteger(option, value);
  }
  const deadline = options.get('defaultDeadline');
  return {
    redacted: redact(text.trim(), userInfo),
    discover,
    hosts,
    credentials,
    tls,
    tlsCAFile: options.get('tlsCAFile'),
    userCertFile: options.get('userCertFile'),
    userKeyFile: options.get('userKeyFile'),
    defaultDeadlineMs: deadline === undefined ? undefined : parsePositiveInteger('defaultDeadline', deadline),
    timings,
    connectionName: options.get('connectionName'),
  };
}

function parseCredentials(userInfo: string): { username: string; password: string } {
  const colon = userInfo.indexOf(':');
  if (colon <= 0 || colon === userInfo.length - 1) {
    throw new EsdbConnectionStringError('credentials must be user:password (percent-encode @, : and / in them)');
  }
  try {
    return { username: decodeURIComponent(userInfo.slice(0, colon)), password: decodeURIComponent(userInfo.slice(colon + 1)) };
  } catch {
    throw new EsdbConnectionStringError('the credentials hold a malformed percent-encoding');
  }
}

function parseHost(host: string, index: number): EndPoint {
  const match = HOST.exec(host.trim());
  const port = match?.[2] === undefined ? 2113 : Number(match[2]);
  if (match === null || port < 1 || port > 65_535) {
    throw new EsdbConnectionStringError(`host ${index + 1} must be host[:port], with a port from 1 to 65535`);
  }
  return { address: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The query's options by their canonical name; unknown, repeated and refused options are errors. */
function parseQuery(query: string | undefined): Map<string, string> {
  const options = new Map<string, string>();
  if (query === undefined || query === '') return options;
  for (const [index, pair] of query.split('&').entries()) {
    const equals = pair.indexOf('=');
    const option = equals <= 0 ? undefined : OPTION_BY_FLAT_NAME.get(flat(pair.slice(0, equals)));
    if (equals <= 0 || equals === pair.length - 1) {
      throw new EsdbConnectionStringError(`option ${index + 1} must be key=value`);
    }
    if (option === undefined) {
      const key = pair.slice(0, equals);
      const shown = /^[A-Za-z0-9_-]{1,40}$/.test(key) ? `"${key}"` : `${index + 1}`;
      throw new EsdbConnectionStringError(`unknown option ${shown} (known: ${KNOWN_OPTIONS.join(', ')})`);
    }
    if (options.has(option)) throw new EsdbConnectionStringError(`option ${option} is given twice`);
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(equals + 1)).trim();
    } catch {
      throw new EsdbConnectionStringError(`option ${option} holds a malformed percent-encoding`);
    }
    const refused = REFUSED_VALUES[option];
    if (refused !== undefined && flat(value) !== flat(refused.allowed)) {
      throw new EsdbConnectionStringError(`${option} must be ${refused.allowed} for the ledger: ${refused.why}`);
    }
    options.set(option, value);
  }
  return options;
}

function parseBoolean(option: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new EsdbConnectionStringError(`${option} must be true or false`);
  return value === 'true';
}

function parsePositiveInteger(option: string, value: string): number {
  const parsed = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new EsdbConnectionStringError(`${option} must be a positive whole number`);
  }
  return parsed;
}

function redact(text: string, userInfo: string | undefined): string {
  if (userInfo === undefined) return text;
  const user = userInfo.slice(0, Math.max(userInfo.indexOf(':'), 0));
  return text.replace(`${userInfo}@`, `${user}:***@`);
}

/** The client for a checked connection string, made without the client's parser (which prints what it parses). */
export function connectEsdb(connection: EsdbConnection): NativeClient {
  const channel: { insecure: boolean; rootCertificate?: Buffer; userCertFile?: Buffer; userKeyFile?: Buffer } = {
    insecure: !connection.tls,
  };
  if (connection.tls && connection.tlsCAFile !== undefined) channel.rootCertificate = readOptionFile('tlsCAFile', connection.tlsCAFile);
  if ((connection.userCertFile === undefined) !== (connection.userKeyFile === undefined)) {
    throw new EsdbConnectionStringError('userCertFile and userKeyFile go together');
  }
  if (connection.userCertFile !== undefined && connection.userKeyFile !== undefined) {
    channel.userCertFile = readOptionFile('userCertFile', connection.userCertFile);
    channel.userKeyFile = readOptionFile('userKeyFile', connection.userKeyFile);
  }
  const common = {
    throwOnAppendFailure: true,
    defaultDeadline: connection.defaultDeadlineMs,
    keepAliveInterval: connection.timings.keepAliveInterval,
    keepAliveTimeout: connection.timings.keepAliveTimeout,
    connectionName: connection.connectionName,
  };
  const cluster = {
    nodePreference: 'leader' as const,
    discoveryInterval: connection.timings.discoveryInterval,
    gossipTimeout: connection.timings.gossipTimeout,
    maxDiscoverAttempts: connection.timings.maxDiscoverAttempts,
  };
  const [first] = connection.hosts;
  if (connection.discover) return new NativeClient({ ...common, ...cluster, discover: first! }, channel, connection.credentials);
  if (connection.hosts.length > 1) {
    return new NativeClient({ ...common, ...cluster, endpoints: [...connection.hosts] }, channel, connection.credentials);
  }
  return new NativeClient({ ...common, endpoint: first! }, channel, connection.credentials);
}

function readOptionFile(option: string, path: string): Buffer {
  const resolved = isAbsolute(path) ? path : resolve(process.cwd(), path);
  if (!existsSync(resolved)) throw new EsdbConnectionStringError(`${option}: no file at ${resolved}`);
  return readFileSync(resolved);
}
