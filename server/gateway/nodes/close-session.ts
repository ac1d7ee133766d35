import type { WebSocket } from 'ws';

/** RFC 6455 allows a close reason of 123 bytes of UTF-8; ws throws on a longer one. */
const MAX_CLOSE_REASON_BYTES = 123;

/** How long the close frame to a peer that broke the rules has to leave before its socket is dropped. */
const UNREAD_LINGER_MS = 1000;

/**
 * Ends a node's session with a code and a reason. A reason may quote what the peer sent, so it is
 * cut to the bytes a close frame allows, at a character boundary. With `stopReading`, for a peer
 * that sends more than it may, what it keeps sending is neither parsed nor kept: the socket is
 * paused, so it waits in the kernel (unless ws refused a frame itself, and reads on to discard).
 * The peer's answer to the close is then never read either, so the socket is dropped once the
 * close frame has had time to go out.
 */
export function closeSession(socket: WebSocket, code: number, reason: string, options: { stopReading?: boolean } = {}): void {
  socket.close(code, fitCloseReason(reason));
  if (options.stopReading) {
    socket.pause();
    dropAfterClose(socket);
  }
}

/**
 * Drops a socket whose close frame is on its way, once it has had time to leave, without waiting
 * for the peer's answer: for peers that broke the rules and may go on sending.
 */
export function dropAfterClose(socket: WebSocket): void {
  setTimeout(() => socket.terminate(), UNREAD_LINGER_MS).unref();
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
