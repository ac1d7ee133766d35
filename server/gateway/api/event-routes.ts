import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventBus } from '../events/event-bus.ts';

const SSE_KEEPALIVE_MS = 15_000;

/** `/api/events`: the gateway's events as Server-Sent Events, named by their type. */
export function eventRoutes(events: EventBus): Hono {
  const stream = new Hono();

  stream.get('/', (c) =>
    streamSSE(c, async (sse) => {
      const unsubscribe = events.subscribe((event) => {
        void sse.writeSSE({ event: event.type, data: JSON.stringify(event) });
      });
      await sse.writeSSE({ event: 'ready', data: '{}' });
      const keepalive = setInterval(() => void sse.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      await new Promise<void>((resolve) => sse.onAbort(resolve));
      clearInterval(keepalive);
      unsubscribe();
    }),
  );

  return stream;
}
