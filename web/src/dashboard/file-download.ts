import type { FileDetail, ShoalClient } from '../../../shared/api-client.ts';
import { describeError } from '../common/error-text.ts';

export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Why a file that cannot be read now cannot be, in words, naming the nodes it waits for. */
export function unreadableReason(detail: FileDetail): string {
  const unreadable = detail.chunks.filter((c) => c.health === 'unavailable').length;
  const total = detail.chunks.length;
  const which = total === 1 ? 'its only chunk has' : `${unreadable} of its ${total} chunks ${unreadable === 1 ? 'has' : 'have'}`;
  const waiting = detail.waitingFor.length > 0 ? `it waits for ${detail.waitingFor.join(', ')} to come back online` : 'no node holds a copy of it';
  return `${detail.file.name} cannot be read now: ${which} no copy online, and ${waiting}.`;
}

/** Null when the file can be downloaded now; otherwise why not, in words. */
export async function checkReadable(client: ShoalClient, name: string): Promise<string | null> {
  try {
    const detail = await client.fileDetail(name);
    return detail.file.health === 'unavailable' ? unreadableReason(detail) : null;
  } catch (err) {
    const { title, detail } = describeError(err);
    return `${name} cannot be downloaded: ${title} (${detail})`;
  }
}
