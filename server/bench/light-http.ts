import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** How much of a response a read takes at once, into one buffer used for every read. */
const READ_BUFFER_BYTES = 1024 * 1024;

/**
 * One HTTP/1.1 request over its own connection, for the bench: a body is written from the
 * caller's buffers as they come, waiting for the socket to drain, and the response is read into
 * one buffer used for every read, counted rather than kept (a PUT's answer is kept as text). So
 * the client costs about what curl does and the figures measure Shoal, not the client sharing its
 * two cores. Only what the bench needs: `http:`, a response with Content-Length.
 */
export function lightTransfer(
  method: 'PUT' | 'GET',
  url: string,
  headers: Record<string, string>,
  body?: Iterable<Uint8Array>,
): Promise<{ status: number; bytes: number; text: string }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    let head = '';
    let status = 0;
    let length = -1;
    let bytes = 0;
    let text = '';
    const finish = (socket: Socket) => {
      socket.destroy();
      resolve({ status, bytes, text });
    };
    const socket: Socket = connect({
      host: hostname,
      port: Number(port),
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (read, buffer) => {
          let data = Buffer.from(buffer.buffer, buffer.byteOffset, read);
          if (length < 0) {
            head += data.toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return true;
            status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
            length = Number(/\r\ncontent-length: *(\d+)/i.exec(head.slice(0, end))?.[1] ?? 0);
            data = Buffer.from(head.slice(end + 4), 'latin1');
          }
          bytes += data.length;
          if (method === 'PUT') text += data.toString('utf8');
          if (bytes >= length) finish(socket);
          return true;
        },
      },
    });
    socket.on('error', reject);
    socket.on('close', () => (length < 0 || bytes < length) && reject(new Error(`connection closed after ${bytes} bytes of the answer`)));
    const lines = [`${method} ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body) lines.push('Transfer-Encoding: chunked');
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (body) void send(socket, body).catch(reject);
  });
}

/** A chunked body from `pieces`: each is on its way to the kernel before the next is asked for, so the caller may reuse its buffers. */
async function send(socket: Socket, pieces: Iterable<Uint8Array>): Promise<void> {
  for (const piece of pieces) {
    socket.write(`${piece.length.toString(16)}\r\n`);
    const flushed = socket.write(piece);
    socket.write('\r\n');
    if (!flushed) await once(socket, 'drain');
  }
  socket.write('0\r\n\r\n');
}
