import { ShoalError } from '../../../shared/errors.ts';

const MAX_NAME_BYTES = 1024;

/**
 * File names are paths of non-empty segments: they may contain '/', but not '.' or '..' segments,
 * empty segments, control characters or a backslash, so a name can never mean a different file on
 * someone's disk when downloaded.
 */
export function validateFileName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new ShoalError('BAD_NAME', 'file name is not valid percent-encoding');
  }
  if (name.length === 0) throw new ShoalError('BAD_NAME', 'file name is empty');
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) throw new ShoalError('BAD_NAME', `file name is longer than ${MAX_NAME_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f\\]/.test(name)) throw new ShoalError('BAD_NAME', 'file name contains a control character or backslash');
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ShoalError('BAD_NAME', `file name ${JSON.stringify(name)} has an empty, '.' or '..' segment`);
  }
  return name;
}
