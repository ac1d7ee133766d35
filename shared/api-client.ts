import type { ShoalEvent, ClusterHealth, ClusterThroughput, CreatedInvite, GatewayInfo, FileDetail, FileInfo, FileListing, FilePage, InviteInfo, LoginLink, NodeInfo, RepairStats, Role, SessionInfo, TokenInfo, CreatedToken, S3KeyInfo, CreatedS3Key } from './api-types.ts';
import { ShoalError, isErrorCode } from './errors.ts';
import { createSha256, type IncrementalSha256 } from './sha256-stream.ts';

export type * from './api-types.ts';
export type { IncrementalSha256 } from './sha256-stream.ts';
export { ShoalError } from './errors.ts';

/** Files per request when list() reads the whole listing: the largest page the gateway gives. */
const LIST_PAGE = 10_000;

export type UploadBody = Blob | Uint8Array | ReadableStream<Uint8Array>;

/**
 * Typed client for the gateway's HTTP API, over fetch, so it runs in Node and in browsers. Every
 * failure surfaces as a ShoalError with the gateway's code, or GATEWAY_UNREACHABLE.
 */
export class ShoalClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #token: string | undefined;
  readonly #onUnauthorized: (() => void) | undefined;

  /**
   * `token` is sent as `Authorization: Bearer`; without one (the web app) the browser's session
   * cookie for the gateway's origin authenticates. `onUnauthorized` hears every 401, e.g. to show
   * a login screen when a session has ended.
   */
  constructor(baseUrl: string, options: { fetch?: typeof fetch; token?: string; onUnauthorized?: () => void } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#token = options.token;
    this.#onUnauthorized = options.onUnauthorized;
  }

  /** The Authorization header this client sends, for requests made beside it (a raw fetch, an XHR). */
  authHeaders(): Record<string, string> {
    return this.#token === undefined ? {} : { Authorization: `Bearer ${this.#token}` };
  }

  fileUrl(name: string): string {
    return `${this.baseUrl}/api/files/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * Stores `body` under `name` and resolves once the gateway has it on R nodes. `onProgress` hears
   * the bytes sent so far: as a stream is read, or all at once for a Blob or bytes, whose upload
   * fetch does not report piece by piece.
   */
  async upload(name: string, body: UploadBody, options: { signal?: AbortSignal; onProgress?: (bytesSent: number) => void } = {}): Promise<FileInfo> {
    const { onProgress } = options;
    const streamed = body instanceof ReadableStream;
    const sent = streamed && onProgress ? body.pipeThrough(progressStream(onProgress)) : body;
    const init: RequestInit & { duplex?: 'half' } = { method: 'PUT', body: sent as BodyInit, signal: options.signal };
    if (streamed) init.duplex = 'half';
    const res = await this.#request(this.fileUrl(name), init);
    const file = (await res.json()) as FileInfo;
    if (!streamed) onProgress?.(file.size);
    return file;
  }

  /**
   * Streams the file into `sink` and checks the whole file's SHA-256 against the one the gateway
   * stored (its ETag). The sink is aborted, and CHUNK_CORRUPT thrown, when they differ: the caller
   * must treat what the sink got as unusable unless this resolves. `createHash` lets Node use
   * node:crypto (shoal/node does); the default is a plain implementation that runs anywhere.
   */
  async downloadTo(
    name: string,
    sink: WritableStream<Uint8Array>,
    options: { signal?: AbortSignal; onProgress?: (bytesReceived: number, totalBytes: number) => void; createHash?: () => IncrementalSha256 } = {},
  ): Promise<{ size: number; sha256: string }> {
    const res = await this.download(name, { signal: options.signal });
    // Only a file's SHA-256 is checked: a file composed of parts may carry another kind of tag (api/file-etag.ts).
    const expected = (res.headers.get('etag') ?? '').replaceAll('"', '').replace(/^(?![0-9a-f]{64}$).*/, '');
    const total = Number(res.headers.get('content-length') ?? 0);
    const hash = (options.createHash ?? createSha256)();
    let size = 0;
    let actual = '';
    const verify = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        size += chunk.length;
        options.onProgress?.(size, total);
        controller.enqueue(chunk);
      },
      flush(controller) {
        actual = hash.digestHex();
        if (expected && actual !== expected) {
          controller.error(new ShoalError('CHUNK_CORRUPT', `${name}: the bytes received hash to ${actual}, the gateway stored ${expected}`));
        }
      },
    });
    try {
      await res.body!.pipeThrough(verify).pipeTo(sink, { signal: options.signal });
    } catch (err) {
      if (err instanceof ShoalError || (err as Error).name === 'AbortError') throw err;
      throw new ShoalError('CHUNK_UNAVAILABLE', `download of ${name} broke off: ${(err as Error).message}`, { cause: err });
    }
    return { size, sha256: actual };
  }

  /** The response whose body streams the file; `range` is inclusive, as in HTTP. */
  async download(name: string, options: { range?: { start: number; end?: number }; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.range) headers.Range = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    return this.#request(this.fileUrl(name), { headers, signal: options.signal });
  }

  async stat(name: string): Promise<{ size: number; sha256: string }> {
    const res = await this.#request(this.fileUrl(name), { method: 'HEAD' });
    return { size: Number(res.headers.get('content-length')), sha256: (res.headers.get('etag') ?? '').replaceAll('"', '') };
  }

  async delete(name: string): Promise<void> {
    await this.#request(this.fileUrl(name), { method: 'DELETE' });
  }

  /** Every file, page after page: for a large store, listPage reads one page at a time. */
  async list(): Promise<FileListing[]> {
    const files: FileListing[] = [];
    let after: string | undefined;
    do {
      const page = await this.listPage({ after, limit: LIST_PAGE });
      files.push(...page.files);
      after = page.next;
    } while (after !== undefined);
    return files;
  }

  /** One page of the listing in name order; with `delimiter`, names past it under `prefix` come as folders. */
  async listPage(options: { limit?: number; after?: string; prefix?: string; delimiter?: string } = {}): Promise<FilePage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) if (value !== undefined && value !== '') query.set(key, String(value));
    return (await this.#json(`/api/files?${query}`)) as FilePage;
  }

  /** Each chunk of a file with the nodes that hold it and the state of each copy. */
  async fileDetail(name: string): Promise<FileDetail> {
    return (await this.#json(`/api/chunks?file=${encodeURIComponent(name)}`)) as FileDetail;
  }

  async nodes(): Promise<NodeInfo[]> {
    return ((await this.#json('/api/nodes')) as { nodes: NodeInfo[] }).nodes;
  }

  /** Every gateway serving this cluster, with its status. */
  async gateways(): Promise<GatewayInfo[]> {
    return ((await this.#json('/api/gateways')) as { gateways: GatewayInfo[] }).gateways;
  }

  async health(): Promise<ClusterHealth> {
    return (await this.#json('/api/health')) as ClusterHealth;
  }

  /** Bytes the file API read and wrote, in total and over the last minutes. */
  async throughput(): Promise<ClusterThroughput> {
    return (await this.#json('/api/stats')) as ClusterThroughput;
  }

  /** Sets the repair queue's failure count back to 0, once an admin has read why they failed. */
  async clearRepairFailures(): Promise<RepairStats> {
    const res = await this.#request(`${this.baseUrl}/api/repair/failures`, { method: 'DELETE' });
    return ((await res.json()) as { repair: RepairStats }).repair;
  }

  async drainNode(id: string, draining = true): Promise<void> {
    await this.#request(`${this.baseUrl}/api/nodes/${encodeURIComponent(id)}/${draining ? 'drain' : 'undrain'}`, { method: 'POST' });
  }

  /** Clears a node's quarantine, so it takes new copies again. */
  async trustNode(id: string): Promise<void> {
    await this.#request(`${this.baseUrl}/api/nodes/${encodeURIComponent(id)}/trust`, { method: 'POST' });
  }

  /** Refused with NODE_NOT_SAFE_TO_REMOVE while the node holds chunks nobody else has enough of, unless forced. */
  async removeNode(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.#request(`${this.baseUrl}/api/nodes/${encodeURIComponent(id)}${options.force ? '?force=1' : ''}`, { method: 'DELETE' });
  }

  async rebalance(): Promise<RepairStats> {
    const res = await this.#request(`${this.baseUrl}/api/rebalance`, { method: 'POST' });
    return ((await res.json()) as { repair: RepairStats }).repair;
  }

  /** Asks every online node to start a scrub pass now. */
  async scrub(): Promise<string[]> {
    const res = await this.#request(`${this.baseUrl}/api/scrub`, { method: 'POST' });
    return ((await res.json()) as { nodes: string[] }).nodes;
  }

  /** Lets collection go on where it paused at its limit; names the nodes it resumed on. */
  async confirmCollection(): Promise<string[]> {
    return ((await this.#postJson('/api/collection/confirm', {})) as { nodes: string[] }).nodes;
  }

  /** An invite lets browser tabs join as nodes; `expiresInMs` and `maxUses` bound it. */
  async createInvite(options: { label?: string; expiresInMs?: number; maxUses?: number } = {}): Promise<CreatedInvite> {
    return (await this.#postJson('/api/invites', options)) as CreatedInvite;
  }

  async invites(): Promise<InviteInfo[]> {
    return ((await this.#json('/api/invites')) as { invites: InviteInfo[] }).invites;
  }

  async revokeInvite(id: string): Promise<void> {
    await this.#request(`${this.baseUrl}/api/invites/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** A new API token; its secret is in the answer and nowhere else. */
  async createToken(options: { role: Role; name?: string }): Promise<CreatedToken> {
    return (await this.#postJson('/api/tokens', options)) as CreatedToken;
  }

  async tokens(): Promise<TokenInfo[]> {
    return ((await this.#json('/api/tokens')) as { tokens: TokenInfo[] }).tokens;
  }

  async revokeToken(id: string): Promise<void> {
    await this.#request(`${this.baseUrl}/api/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** A new S3 access key; its secret is in the answer and only there. */
  async createS3Key(options: { role: Role; name?: string }): Promise<CreatedS3Key> {
    return (await this.#postJson('/api/s3/keys', options)) as CreatedS3Key;
  }

  async s3Keys(): Promise<S3KeyInfo[]> {
    return ((await this.#json('/api/s3/keys')) as { keys: S3KeyInfo[] }).keys;
  }

  async revokeS3Key(id: string): Promise<void> {
    await this.#request(`${this.baseUrl}/api/s3/keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** A one-time dashboard address that logs a browser in with this client's token. */
  async createLoginLink(): Promise<LoginLink> {
    return (await this.#postJson('/api/login-links', {})) as LoginLink;
  }

  /** Trades a login code or a token for a session cookie (the browser keeps it). */
  async login(credential: { code: string } | { token: string }): Promise<SessionInfo> {
    return (await this.#postJson('/api/login', credential)) as SessionInfo;
  }

  async logout(): Promise<void> {
    await this.#postJson('/api/logout', {});
  }

  async session(): Promise<SessionInfo> {
    return (await this.#json('/api/session')) as SessionInfo;
  }

  eventsUrl(): string {
    return `${this.baseUrl}/api/events`;
  }

  /**
   * Follows the gateway's live events (`/api/events`), handing each to `onEvent`, until `signal`
   * aborts or the gateway ends the stream. Unlike an EventSource it sends this client's token, and
   * runs in Node too. Resolves once the stream has ended; `onOpen` hears when it is live.
   */
  async events(onEvent: (event: ShoalEvent) => void, options: { signal?: AbortSignal; onOpen?: () => void } = {}): Promise<void> {
    const res = await this.#request(this.eventsUrl(), { headers: { Accept: 'text/event-stream' }, signal: options.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += value;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const type = /^event: (.*)$/m.exec(message)?.[1];
          const data = message.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
          if (type === 'ready') options.onOpen?.();
          else if (data) onEvent(JSON.parse(data) as ShoalEvent);
        }
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      throw err;
    } finally {
      reader.releaseLock();
    }
  }

  async #postJson(path: string, body: unknown): Promise<unknown> {
    const res = await this.#request(`${this.baseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return res.status === 204 ? undefined : res.json();
  }

  async #json(path: string): Promise<unknown> {
    return (await this.#request(`${this.baseUrl}${path}`, {})).json();
  }

  async #request(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.authHeaders())) headers.set(name, value);
    try {
      res = await this.#fetch(url, { ...init, headers });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ShoalError('GATEWAY_UNREACHABLE', unreachable(this.baseUrl, err), { cause: err });
    }
    if (res.ok || res.status === 304) return res;
    if (res.status === 401) this.#onUnauthorized?.();
    throw await errorFromResponse(res);
  }
}

/** Passes a stream through, reporting the running total of bytes. */
function progressStream(onProgress: (bytes: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.length;
      onProgress(total);
      controller.enqueue(chunk);
    },
  });
}

export async function errorFromResponse(res: Response): Promise<ShoalError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string } };
    if (isErrorCode(error.code)) return new ShoalError(error.code, error.message);
  } catch {
    // not one of ours: fall through to a generic error carrying the status
  }
  return new ShoalError(res.status === 404 ? 'NOT_FOUND' : 'INTERNAL', `gateway answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

/**
 * Why a fetch never got an answer, for a person: a certificate the client does not trust (a gateway
 * with a private CA, or the wrong name) is not a gateway that is down.
 */
function unreachable(baseUrl: string, err: unknown): string {
  const code = String((err as { cause?: { code?: unknown } }).cause?.code ?? '');
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    return `the gateway at ${baseUrl} has a certificate this client does not trust (${code}): give its CA with --ca FILE or SHOAL_CA`;
  }
  return `cannot reach the gateway at ${baseUrl}: is it running?`;
}
