import { ShoalError } from '../../../shared/errors.ts';

/**
 * The conditional request headers of RFC 9110 section 13, for a resource whose current entity tag
 * is `etag` (a strong tag, quoted) or which does not exist (null). `If-Match` compares strongly,
 * `If-None-Match` weakly; both take `*` and lists. Says what to answer: go on, 304 (GET and HEAD
 * whose tag the client has), or throws 412 PRECONDITION_FAILED.
 */
export function evaluatePreconditions(
  method: string,
  headers: { ifMatch?: string; ifNoneMatch?: string },
  etag: string | null,
): 'proceed' | 'not-modified' {
  if (headers.ifMatch !== undefined && !matches(headers.ifMatch, etag, 'strong')) {
    throw new ShoalError('PRECONDITION_FAILED', etag ? 'If-Match names no current version of the file' : 'If-Match: the file does not exist');
  }
  if (headers.ifNoneMatch !== undefined && matches(headers.ifNoneMatch, etag, 'weak')) {
    if (method === 'GET' || method === 'HEAD') return 'not-modified';
    throw new ShoalError('PRECONDITION_FAILED', headers.ifNoneMatch.trim() === '*' ? 'If-None-Match: * and the file exists' : 'If-None-Match names the current version');
  }
  return 'proceed';
}

/** Whether the header's `*` or one of its listed tags matches `etag`; a header that does not parse matches nothing. */
function matches(header: string, etag: string | null, comparison: 'strong' | 'weak'): boolean {
  if (etag === null) return false;
  if (header.trim() === '*') return true;
  const current = opaque(etag);
  return parseTags(header).some((tag) => tag.value === current && (comparison === 'weak' || !tag.weak));
}

function parseTags(header: string): Array<{ weak: boolean; value: string }> {
  const tags: Array<{ weak: boolean; value: string }> = [];
  const pattern = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < header.length && (match = pattern.exec(header))) tags.push({ weak: match[1] !== undefined, value: match[2]! });
  return tags;
}

function opaque(etag: string): string {
  return etag.replace(/^W\//, '').slice(1, -1);
}
