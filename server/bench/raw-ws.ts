import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const SINK = fileURLToPath(new URL('./raw-ws-sink.ts', import.meta.url));

/**
 * The ceiling for moving chunks over loopback: a `ws` client pushing 4 MiB binary frames to a `ws`
 * server in another process, with the same window of frames in flight the gateway uses.
 */
export async function rawWebSocketMBps(totalBytes: number, frameBytes = 4 * 1024 * 1024, window = 4): Promise<number> {
  const sink = fork(SINK, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve) => sink.once('message', (m: { port: number }) => resolve(m.port)));
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const frame = Buffer.alloc(frameBytes, 7);
    const frames = Math.ceil(totalBytes / frameBytes);
    const done = new Promise((resolve) => socket.once('message', resolve));
    const started = performance.now();
    socket.send(String(frames * frameBytes));
    let inFlight = 0;
    let wake: (() => void) | null = null;
    for (let i = 0; i < frames; i++) {
      while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
      inFlight++;
      socket.send(frame, { binary: true }, () => {
        inFlight--;
        wake?.();
      });
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    socket.close();
    return (frames * frameBytes) / 1e6 / seconds;
  } finally {
    sink.kill();
  }
}
