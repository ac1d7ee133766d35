import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** RFC 6455 allows a close reason of 123 bytes of UTF-8; ws throws on a longer one. */
const MAX_CLOSE_REASON_BYTES = 123;

/** The TCP socket under each node WebSocket, which ws keeps to itself. */
const transports = new WeakMap<WebSocket, Duplex>();

/** Remembers the TCP socket a node's WebSocket runs on, so that a session can be ended without reading on. */
export function trackTransport(socket: WebSocket, transport: Duplex): void {
  transports.set(socket, transport);
}

/**
 * Ends a node's session with a code and a reason. A reason may quote what the peer sent, so it is
 * cut to the bytes a close frame allows, at a character boundary.
 *
 * With `stopReading`, for a peer that sends more than it may, nothing more is read: what it keeps
 * sending waits in the kernel, not in the gateway's memory or time. The close frame is followed by
 * a FIN, so the peer learns the reason at once; dropping the socket now would reset it, and a reset
 * loses the close frame among the bytes the peer has not read yet. Since the peer's answer is never
 * read, ws drops the socket after its close timeout.
 */
export function closeSession(socket: WebSocket, code: number, reason: string, options: { stopReading?: boolean } = {}): void {
  socket.close(code, fitCloseReason(reason));
  if (!options.stopReading) return;
  socket.pause();
  transports.get(socket)?.end();
}

/**
 * ws refused a frame itself (1002, 1007, 1009): it has sent its own close and resumes the socket to
 * read on, discarding, until the peer ends. Such a peer is treated like one that sent too much:
 * once that resume has run (it was queued before the error was emitted), nothing more is read, and
 * a FIN follows the close.
 */
export function stopReadingAfterError(socket: WebSocket): void {
  process.nextTick(() => {
    socket.pause();
    transports.get(socket)?.end();
  });
}

function fitCloseReason(reason: string): string {
  let fitted = '';
  let bytes = 0;
  for (const character of reason) {
    bytes += Buffer.byteLength(character);
    if (bytes > MAX_CLOSE_REASON_BYTES) break;
    fitted += character;
  }
  return fitted;
}
