import type { ClusterHealth, CreatedInvite, FileInfo, FileListing, InviteInfo, NodeInfo, RepairStats } from './api-types.ts';
import { ShoalError, isErrorCode } from './errors.ts';

export type * from './api-types.ts';

export type UploadBody = Blob | Uint8Array | ReadableStream<Uint8Array>;

/**
 * Typed client for the gateway's HTTP API, over fetch, so it runs in Node and in browsers. Every
 * failure surfaces as a ShoalError with the gateway's code, or GATEWAY_UNREACHABLE.
 */
export class ShoalClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, options: { fetch?: typeof fetch } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  fileUrl(name: string): string {
    return `${this.baseUrl}/api/files/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  async upload(name: string, body: UploadBody, options: { signal?: AbortSignal } = {}): Promise<FileInfo> {
    const init: RequestInit & { duplex?: 'half' } = { method: 'PUT', body: body as BodyInit, signal: options.signal };
    if (body instanceof ReadableStream) init.duplex = 'half';
    const res = await this.#request(this.fileUrl(name), init);
    return (await res.json()) as FileInfo;
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

  async list(): Promise<FileListing[]> {
    return ((await this.#json('/api/files')) as { files: FileListing[] }).files;
  }

  async nodes(): Promise<NodeInfo[]> {
    return ((await this.#json('/api/nodes')) as { nodes: NodeInfo[] }).nodes;
  }

  async health(): Promise<ClusterHealth> {
    return (await this.#json('/api/health')) as ClusterHealth;
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

  /** Lets collection go on where it paused at its limit; names the nodes it resumed on. Answered only on the gateway's machine. */
  async confirmCollection(): Promise<string[]> {
    const res = await this.#request(`${this.baseUrl}/api/collection/confirm`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    return ((await res.json()) as { nodes: string[] }).nodes;
  }

  /** An invite lets browser tabs join as nodes; `expiresInMs` and `maxUses` bound it. */
  async createInvite(options: { label?: string; expiresInMs?: number; maxUses?: number } = {}): Promise<CreatedInvite> {
    const res = await this.#request(`${this.baseUrl}/api/invites`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(options),
    });
    return (await res.json()) as CreatedInvite;
  }

  async invites(): Promise<InviteInfo[]> {
    return ((await this.#json('/api/invites')) as { invites: InviteInfo[] }).invites;
  }

  async revokeInvite(id: string): Promise<void> {
    await this.#request(`${this.baseUrl}/api/invites/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  eventsUrl(): string {
    return `${this.baseUrl}/api/events`;
  }

  async #json(path: string): Promise<unknown> {
    return (await this.#request(`${this.baseUrl}${path}`, {})).json();
  }

  async #request(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ShoalError('GATEWAY_UNREACHABLE', `cannot reach the gateway at ${this.baseUrl}: is it running?`, { cause: err });
    }
    if (res.ok || res.status === 304) return res;
    throw await errorFromResponse(res);
  }
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
