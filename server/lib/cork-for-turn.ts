import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/**
 * A function that holds `socket`'s writes until the event loop's next turn, so the messages sent
 * in one turn leave in one system call rather than one each. `ws` writes to the TCP socket it was
 * handed on connect or upgrade, which it keeps as `_socket`; before there is one, nothing is held.
 */
export function corkForTurn(socket: WebSocket): () => void {
  let corked = false;
  return () => {
    if (corked) return;
    const tcp = (socket as unknown as { _socket?: Duplex })._socket;
    if (!tcp) return;
    corked = true;
    tcp.cork();
    setImmediate(() => {
      corked = false;
      tcp.uncork();
    });
  };
}
