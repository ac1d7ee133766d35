import { DetailedError, Upload, defaultOptions, type PreviousUpload } from 'tus-js-client';
import { errorFromResponse, type ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';

/** The gateway's tus endpoint (server/gateway/api/tus-routes.ts). */
export const UPLOADS_PATH = '/api/uploads';
/** Fingerprints of this app's uploads, so uploads another app left in the same storage are ignored. */
const FINGERPRINT_PREFIX = 'shoal:';
/** Bytes from each end of a file that its fingerprint covers. */
const SAMPLE_BYTES = 1024 * 1024;
/** Bytes a request carries at least, rounded up to whole chunks: each answer confirms what is stored. */
const PIECE_BYTES = 16 * 1024 * 1024;
/** Retries of a dropped request, then the upload waits for the browser to be online again. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000];
/** What the gateway refuses for good: retrying these would only repeat the refusal. */
const FINAL_CODES = new Set(['INSUFFICIENT_NODES', 'FILE_TOO_LARGE', 'BAD_NAME', 'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'INSUFFICIENT_STORAGE', 'PRECONDITION_FAILED']);

export interface TusCallbacks {
  onProgress(sentBytes: number): void;
  /** Each request that the gateway answered moved the durable offset here. */
  onStored(offset: number): void;
  onSuccess(): void;
  onError(error: ShoalError, retryable: boolean): void;
}

/**
 * A file's resumable upload to the gateway under `name`. Its address is kept in localStorage under
 * a fingerprint of the name and the file's size and content at both ends, so choosing the same
 * file again, after a reload too, carries on from what the gateway stored. Resolves with the
 * upload and the offset it resumes from (0 for a new one).
 */
export async function resumableUpload(client: ShoalClient, name: string, file: File, callbacks: TusCallbacks): Promise<{ upload: Upload; resumedFrom: number }> {
  const upload = new Upload(file, {
    endpoint: `${client.baseUrl}${UPLOADS_PATH}`,
    metadata: { filename: name },
    headers: client.authHeaders(),
    retryDelays: RETRY_DELAYS,
    chunkSize: await pieceSize(client),
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    fingerprint: () => fingerprint(name, file),
    onShouldRetry: (err) => !FINAL_CODES.has(errorCode(err) ?? '') && navigator.onLine,
    onProgress: (sent) => callbacks.onProgress(sent),
    onChunkComplete: (_chunk, accepted) => callbacks.onStored(accepted),
    onSuccess: () => callbacks.onSuccess(),
    onError: (err) => void describe(err, name).then((e) => callbacks.onError(e, !FINAL_CODES.has(e.code))),
  });
  const [previous] = await upload.findPreviousUploads();
  if (previous) upload.resumeFromPreviousUpload(previous);
  const resumedFrom = previous?.uploadUrl ? await storedOffset(previous.uploadUrl, client) : 0;
  return { upload, resumedFrom: resumedFrom ?? 0 };
}

/** An upload a previous visit of this page left unfinished: its name, size and how much is stored. */
export interface LeftUpload {
  name: string;
  size: number;
  offset: number;
  key: string;
}

/** The uploads this browser left unfinished that the gateway still holds; those it forgot are dropped. */
export async function leftUploads(client: ShoalClient): Promise<LeftUpload[]> {
  const storage = defaultOptions.urlStorage;
  const found: LeftUpload[] = [];
  for (const entry of (await storage.findAllUploads()) as PreviousUpload[]) {
    if (!entry.urlStorageKey.startsWith(`tus::${FINGERPRINT_PREFIX}`)) continue;
    const offset = entry.uploadUrl ? await storedOffset(entry.uploadUrl, client) : null;
    if (offset === null) {
      await storage.removeUpload(entry.urlStorageKey);
      continue;
    }
    found.push({ name: entry.metadata.filename ?? '?', size: entry.size ?? 0, offset, key: entry.urlStorageKey });
  }
  return found;
}

/** Ends an upload left unfinished: the gateway releases what it stored, and this browser forgets it. */
export async function forgetLeftUpload(client: ShoalClient, key: string): Promise<void> {
  const storage = defaultOptions.urlStorage;
  const entry = ((await storage.findAllUploads()) as PreviousUpload[]).find((e) => e.urlStorageKey === key);
  if (entry?.uploadUrl) await Upload.terminate(entry.uploadUrl, { headers: client.authHeaders() }).catch(() => {});
  await storage.removeUpload(key);
}

/**
 * The gateway keeps only whole chunks of a request, so requests are whole multiples of its chunk
 * size: each then moves the offset by all it carried, and a connection that drops costs at most
 * the request under way.
 */
async function pieceSize(client: ShoalClient): Promise<number> {
  const res = await fetch(`${client.baseUrl}${UPLOADS_PATH}`, { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0', ...client.authHeaders() } });
  if (!res.ok) throw await errorFromResponse(res);
  const chunk = Number(res.headers.get('shoal-chunk-size'));
  if (!(chunk > 0)) throw new ShoalError('BAD_REQUEST', 'the gateway does not say its chunk size: is it a Shoal gateway?');
  return chunk * Math.max(1, Math.ceil(PIECE_BYTES / chunk));
}

/** Bytes the gateway holds of an upload, or null when it no longer knows it. */
async function storedOffset(url: string, client: ShoalClient): Promise<number | null> {
  try {
    const res = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...client.authHeaders() } });
    return res.ok ? Number(res.headers.get('upload-offset')) : null;
  } catch {
    return null;
  }
}

async function fingerprint(name: string, file: File): Promise<string> {
  const head = file.slice(0, SAMPLE_BYTES);
  const tail = file.slice(Math.max(SAMPLE_BYTES, file.size - SAMPLE_BYTES));
  const digest = await crypto.subtle.digest('SHA-256', await new Blob([head, tail]).arrayBuffer());
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${FINGERPRINT_PREFIX}${file.size}:${hex}:${encodeURIComponent(name)}`;
}

function errorCode(err: DetailedError): string | undefined {
  try {
    return (JSON.parse(err.originalResponse?.getBody() ?? '') as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** The gateway's own error when it answered, else a connection that broke. */
async function describe(err: Error | DetailedError, name: string): Promise<ShoalError> {
  const res = err instanceof DetailedError ? err.originalResponse : null;
  if (res && res.getStatus() > 0) return errorFromResponse(new Response(res.getBody(), { status: res.getStatus() }));
  return new ShoalError('GATEWAY_UNREACHABLE', `the connection to the gateway broke off during the upload of ${name}`, { cause: err });
}
