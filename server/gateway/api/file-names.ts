import { ShoalError } from '../../../shared/errors.ts';

const MAX_NAME_BYTES = 1024;

/**
 * Characters a name may not hold: C0 and C1 controls (U+0085 among them), DEL, the backslash, the
 * line and paragraph separators, and the bidirectional controls that make a name display as
 * another (`invoice\u202Efdp.exe` shows as "invoiceexe.pdf").
 */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/**
 * File names are paths of non-empty segments: they may contain '/', but not '.' or '..' segments,
 * empty segments, control characters or a backslash, so a name can never mean a different file on
 * someone's disk when downloaded, nor display as a different name. `raw` is the name as it came
 * in the request's path, percent-encoded and not normalised: a URL parser would have resolved
 * `sub/%2e%2e/x` to `x` before anything could refuse it.
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
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new ShoalError('BAD_NAME', `file name contains U+${code}, a control, separator or bidirectional character or a backslash`);
  }
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ShoalError('BAD_NAME', `file name ${JSON.stringify(name)} has an empty, '.' or '..' segment`);
  }
  return name;
}
