import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { parseEsdbConnectionString } from './esdb-connection';

/**
 * The compose cluster (docker/docker-compose.yml), checked without Docker: whichever node leads, the address it
 * advertises to clients must reach it from the compose network and, with the README's hosts entry, from the host.
 */

interface Service {
  readonly hostname?: string;
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
}

const compose = load(readFileSync(join(__dirname, '../../../../docker/docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const nodes = Object.entries(compose.services).filter(([name]) => name.startsWith('eventstore'));

describe('the compose EventStoreDB cluster', () => {
  it('has three nodes, each advertising to clients its own service name and a port it listens on and publishes', () => {
    expect(nodes).toHaveLength(3);
    for (const [name, node] of nodes) {
      const environment = node.environment ?? {};
      const host = environment.EVENTSTORE_ADVERTISE_HOST_TO_CLIENT_AS;
      const port = environment.EVENTSTORE_ADVERTISE_NODE_PORT_TO_CLIENT_AS;
      expect({ name, host }).toEqual({ name, host: name });
      expect(node.hostname).toBe(name);
      expect(environment.EVENTSTORE_NODE_PORT).toBe(port);
      // Published under the same number, so that `eventstoreN:port` means the same node inside and outside.
      expect(node.ports).toEqual([`${port}:${port}`]);
    }
  });

  it('gives the ledger every node at the address it advertises, and seeds each node with the others', () => {
    const advertised = nodes.map(([name, node]) => `${name}:${node.environment!.EVENTSTORE_ADVERTISE_NODE_PORT_TO_CLIENT_AS}`);
    const ledger = compose.services['ledger-api']!.environment!.LEDGER_EVENT_STORE!;
    const connection = parseEsdbConnectionString(ledger);
    expect(connection.hosts.map((host) => `${host.address}:${host.port}`)).toEqual(advertised);
    for (const [name, node] of nodes) {
      const seeds = node.environment!.EVENTSTORE_GOSSIP_SEED!.split(',');
      expect(seeds.sort()).toEqual(advertised.filter((address) => !address.startsWith(`${name}:`)).sort());
    }
  });
});
