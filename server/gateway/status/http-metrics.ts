import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Which of the gateway's HTTP APIs answered. */
export type HttpApi = 'native' | 's3';

/** A request as the metrics label it: `operation` is a route template or an S3 operation, never a raw path. */
export interface RequestLabels {
  api: HttpApi;
  method: string;
  operation: string;
  status: number;
}

const LABELS = ['api', 'method', 'operation', 'status'] as const;

/** From a 1 KiB GET on loopback to a large file streamed for minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** How far a keep-alive socket's byte counts had got when its previous request ended. */
interface SocketMark {
  read: number;
  written: number;
}

/**
 * Requests, bytes and time of the HTTP APIs. Bytes are what the request's socket read and wrote
 * from the end of its previous request to the end of this one (headers included), so a body is
 * counted without a hook in its stream: nothing is added per chunk of an upload or download.
 */
export class HttpMetrics {
  readonly #requests: Counter<(typeof LABELS)[number]>;
  readonly #bytesIn: Counter<(typeof LABELS)[number]>;
  readonly #bytesOut: Counter<(typeof LABELS)[number]>;
  readonly #duration: Histogram<'api' | 'method' | 'operation'>;
  readonly #marks = new WeakMap<Socket, SocketMark>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new Counter({ name: 'shoal_http_requests_total', help: 'HTTP requests answered, by API, method, operation and status', labelNames: LABELS, registers });
    this.#bytesIn = new Counter({ name: 'shoal_http_request_bytes_total', help: 'Bytes received in HTTP requests (headers and bodies)', labelNames: LABELS, registers });
    this.#bytesOut = new Counter({ name: 'shoal_http_response_bytes_total', help: 'Bytes sent in HTTP responses (headers and bodies)', labelNames: LABELS, registers });
    this.#duration = new Histogram({
      name: 'shoal_http_request_duration_seconds',
      help: 'Time from the start of handling a request to the last byte of its response',
      labelNames: ['api', 'method', 'operation'],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }

  /** Counts the request once its response is sent (or the client went away); `startedAt` is performance.now() when handling began. */
  record(labels: RequestLabels, startedAt: number, incoming: IncomingMessage | undefined, outgoing: ServerResponse | undefined): void {
    // The socket now: a request whose body was cut short (a refused upload) has none by the time it closes.
    const socket = incoming?.socket ?? outgoing?.socket;
    if (!socket || !outgoing) return;
    if (outgoing.writableFinished || outgoing.destroyed) this.#observe(labels, startedAt, socket);
    else outgoing.once('close', () => this.#observe(labels, startedAt, socket));
  }

  #observe(labels: RequestLabels, startedAt: number, socket: Socket): void {
    const mark = this.#marks.get(socket) ?? { read: 0, written: 0 };
    const read = socket.bytesRead;
    const written = socket.bytesWritten;
    const counted = { api: labels.api, method: labels.method, operation: labels.operation, status: String(labels.status) };
    this.#requests.inc(counted);
    this.#bytesIn.inc(counted, Math.max(0, read - mark.read));
    this.#bytesOut.inc(counted, Math.max(0, written - mark.written));
    this.#duration.observe({ api: labels.api, method: labels.method, operation: labels.operation }, (performance.now() - startedAt) / 1000);
    mark.read = read;
    mark.written = written;
    this.#marks.set(socket, mark);
  }
}
