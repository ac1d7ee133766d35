import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Writes one piece of the body; false once the gateway has answered (or the request is gone): stop then. */
export type WriteBody = (data: Uint8Array) => Promise<boolean>;

/**
 * A PUT of a file through node:http, whose body `send` writes at its own pace (fetch cannot pause
 * a body or send headers alone). Resolves with the gateway's answer, which may come before the
 * body is done: an upload refused up front, or ended for being idle. Given an `expect:
 * 100-continue` header, it sends the body only once the gateway asks for it, as curl does.
 */
export function rawUpload(gatewayUrl: string, token: string, name: string, headers: Record<string, string>, send: (write: WriteBody) => Promise<void>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(new URL(`/api/files/${name}`, gatewayUrl), { method: 'PUT', agent: false, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        // An answer before the body's end leaves the rest unsent: this connection is done.
        req.destroy();
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const write: WriteBody = (data) =>
      new Promise((done) => {
        if (answered || req.destroyed) return done(false);
        req.write(data, () => done(!answered));
      });
    const start = () =>
      send(write).then(
        () => !answered && req.end(),
        (err: Error) => req.destroy(err),
      );
    // With `Expect: 100-continue` the body waits for the gateway's go-ahead, which a refusal never gives.
    if (Object.keys(headers).some((header) => header.toLowerCase() === 'expect')) {
      req.flushHeaders();
      req.once('continue', start);
    } else {
      start();
    }
  });
}
