import { connect, type Socket } from 'node:net';

/**
 * One kept-alive HTTP/1.1 connection for the small-file bench, a request at a time: each request
 * leaves in one write (head and body together) and its answer is read by its Content-Length, the
 * only framing Shoal's small answers use. node:http's client spent about 0.15 ms of CPU per GET
 * and 0.3 per PUT, on the two cores the gateway and its nodes share; this costs a fraction of it,
 * so the figures measure Shoal rather than the client.
 */
export class KeptConnection {
  readonly #socket: Socket;
  readonly #host: string;
  #received: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (answer: { status: number; body: Buffer }) => void; reject: (err: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.#host = `${hostname}:${port}`;
    this.#socket = connect({ host: hostname, port: Number(port), noDelay: true });
    this.#socket.on('data', (data: Buffer) => {
      this.#received = this.#received.length === 0 ? data : Buffer.concat([this.#received, data]);
      this.#answer();
    });
    const fail = (err: Error) => {
      this.#failure ??= err;
      this.#waiting?.reject(err);
      this.#waiting = null;
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new Error('the gateway closed the connection')));
  }

  request(method: 'PUT' | 'GET', path: string, headers: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}\r\n${headers}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n`;
      this.#socket.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
    });
  }

  #answer(): void {
    const end = this.#received.indexOf('\r\n\r\n');
    if (end < 0 || !this.#waiting) return;
    const head = this.#received.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(length)) return void this.#socket.destroy(new Error(`an answer without Content-Length: ${head}`));
    if (this.#received.length < end + 4 + length) return;
    const body = this.#received.subarray(end + 4, end + 4 + length);
    this.#received = this.#received.subarray(end + 4 + length);
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting.resolve({ status: Number(head.slice(9, 12)), body });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Headers as `request` takes them: one `Name: value\r\n` line each. */
export function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
}
