import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROCESS_API_KEYS, PROCESS_KEYS, startServer, type ServerProcess } from './support/server-process';

/** A raw HTTP/1.1 connection, so that the test controls exactly when each byte is sent and sees what the server does. */
class RawConnection {
  private received = '';
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawConnection(socket);
  }

  write(text: string): void {
    this.socket.write(text);
  }

  responsesSoFar(): number {
    return this.received.split(/(?=HTTP\/1\.1 \d{3} )/).filter((part) => part.length > 0).length;
  }

  /** Waits until `count` responses have arrived in full (their status lines and bodies). */
  async responses(count: number, timeoutMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parts = this.received.split(/(?=HTTP\/1\.1 \d{3} )/).filter((part) => part.length > 0);
      if (parts.length >= count && parts.slice(0, count).every(isComplete)) return parts.slice(0, count);
      if (Date.now() > deadline) throw new Error(`expected ${count} responses, got:\n${this.received}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function isComplete(response: string): boolean {
  const [head, body] = response.split('\r\n\r\n', 2) as [string, string | undefined];
  const length = /content-length: (\d+)/i.exec(head);
  return body !== undefined && length !== null && Buffer.byteLength(body) >= Number(length[1]);
}

function request(path: string, body?: string): string {
  const auth = `authorization: Bearer ${PROCESS_KEYS.service}\r\n`;
  if (body === undefined) return `GET ${path} HTTP/1.1\r\nhost: x\r\n${auth}\r\n`;
  return `POST ${path} HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('the server process on SIGTERM', () => {
  let dir: string;
  let server: ServerProcess;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-shutdown-'));
    server = await startServer({ LEDGER_EVENT_STORE: `sqlite:${join(dir, 'ledger.db')}`, LEDGER_API_KEYS: PROCESS_API_KEYS, LEDGER_LOG_LEVEL: 'warn' });
  });

  afterEach(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes idle keep-alive connections at once, finishes the request in flight with Connection: close, and exits 0', async () => {
    const idle = await RawConnection.open(server.url);
    idle.write(request('/health'));
    expect((await idle.responses(1))[0]).toMatch(/^HTTP\/1\.1 200 /);
    // A command whose body is half sent when the signal comes: it is in flight and must be answered in full.
    const busy = await RawConnection.open(server.url);
    const body = JSON.stringify({ accountId: 'in-flight' });
    const head = request('/v1/accounts', body).slice(0, -body.length);
    busy.write(head + body.slice(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 100));

    server.child.kill('SIGTERM');
    const idleClosedWithin = await Promise.race([idle.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 2_000))]);
    expect(idleClosedWithin).toBe('closed');

    busy.write(body.slice(5));
    const [answer] = await busy.responses(1);
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    await busy.closed;
    expect(await server.exited).toBe(0);
    await expect(RawConnection.open(server.url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('ends a busy keep-alive connection after its request in flight, serving nothing more on it', async () => {
    const busy = await RawConnection.open(server.url);
    const body = JSON.stringify({ accountId: 'first' });
    const first = request('/v1/accounts', body);
    busy.write(first.slice(0, -3));
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The first request completes and a second, pipelined behind it, comes on the same connection.
    busy.write(first.slice(-3) + request('/health'));
    const answers = await busy.responses(1);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 201 /);
    expect(answers[0]).toMatch(/\r\nconnection: close\r\n/i);
    await busy.closed;
    // The request pipelined behind it is not served: the answer said Connection: close, and the client resends it
    // on a new connection (to another instance).
    expect(busy.responsesSoFar()).toBe(1);
    expect(await server.exited).toBe(0);
  });
});
