import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventBus } from '../events/event-bus.ts';

const SSE_KEEPALIVE_MS = 15_000;

/**
 * What one client may leave unread before it is dropped. A dashboard that reads stays far below it
 * even through a burst of events; one that stopped reading would otherwise keep every event since
 * in the gateway's memory. A dropped EventSource reconnects and refetches what it missed.
 */
export const SSE_MAX_UNREAD_BYTES = 256 * 1024;

/**
 * `/api/events`: the gateway's events as Server-Sent Events, named by their type. Publishing never
 * waits on a client: each event is queued on every stream at once, and a stream whose queue is
 * full is closed, so a client that does not read holds up no one and costs at most the bound.
 */
export function eventRoutes(events: EventBus): Hono<{ Bindings: { outgoing?: ServerResponse } }> {
  const stream = new Hono<{ Bindings: { outgoing?: ServerResponse } }>();

  stream.get('/', (c) =>
    streamSSE(c, async (sse) => {
      // Bytes handed to the stream that the response has not taken yet: the Node adapter takes
      // the next chunk only once the socket has drained the last, so this is what the client owes.
      let unread = 0;
      const send = (text: string): void => {
        if (sse.aborted) return;
        const bytes = Buffer.byteLength(text);
        unread += bytes;
        if (unread > SSE_MAX_UNREAD_BYTES) {
          // Destroying the response ends the socket; aborting the stream ends this handler.
          c.env?.outgoing?.destroy();
          sse.abort();
          return;
        }
        void sse.write(text).then(() => {
          unread -= bytes;
        });
      };
      const unsubscribe = events.subscribe((event) => send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
      send('event: ready\ndata: {}\n\n');
      const keepalive = setInterval(() => send(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      await new Promise<void>((resolve) => sse.onAbort(resolve));
      clearInterval(keepalive);
      unsubscribe();
    }),
  );

  return stream;
}
