import { errorFromResponse, type FileInfo, type ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';

/**
 * PUTs a file with upload progress, which fetch cannot report. The URL and the reading of error
 * bodies come from the shared client, so this answers exactly as ShoalClient.upload would.
 */
export function uploadWithProgress(client: ShoalClient, name: string, body: Blob, onProgress: (sentBytes: number) => void, signal?: AbortSignal): Promise<FileInfo> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', client.fileUrl(name));
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status === 201) {
        resolve(JSON.parse(xhr.responseText) as FileInfo);
        return;
      }
      void errorFromResponse(new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText })).then(reject);
    };
    xhr.onerror = () => reject(new ShoalError('GATEWAY_UNREACHABLE', `the connection to ${client.baseUrl} broke off during the upload of ${name}`));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
