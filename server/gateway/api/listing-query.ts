import { ShoalError } from '../../../shared/errors.ts';
import type { FilePageQuery } from '../metadata/metadata-store.ts';

/** A page of GET /api/files holds this many files unless `limit` says otherwise, and never more than MAX_PAGE. */
export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

/** `?limit=&after=&prefix=&delimiter=/` as a page query; anything else is a 400, not a guess. */
export function listingQuery(params: Record<string, string>): FilePageQuery {
  const { limit, after, prefix, delimiter } = params;
  const count = limit === undefined ? DEFAULT_PAGE : /^\d{1,6}$/.test(limit) ? Number(limit) : NaN;
  if (!(count >= 1 && count <= MAX_PAGE)) {
    throw new ShoalError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_PAGE}, not ${JSON.stringify(limit)}`);
  }
  if (delimiter !== undefined && delimiter !== '/') throw new ShoalError('BAD_REQUEST', `the only delimiter is "/", not ${JSON.stringify(delimiter)}`);
  return {
    limit: count,
    ...(after ? { after } : {}),
    ...(prefix ? { prefix } : {}),
    ...(delimiter ? { delimiter } : {}),
  };
}
