import { toShoalError, type ErrorCode } from '../../../shared/errors.ts';

export interface ErrorText {
  title: string;
  detail: string;
  code: ErrorCode;
  /** The gateway's own words, without the code. */
  message: string;
}

/** What a person should read for the gateway's error codes; the gateway's own message is the detail. */
const TITLES: Partial<Record<ErrorCode, string>> = {
  INSUFFICIENT_NODES: 'Not enough storage nodes are online to keep the copies this file needs. Start more nodes, or add this browser as one.',
  FILE_TOO_LARGE: 'The file is larger than this gateway accepts.',
  BAD_NAME: 'The gateway does not accept this file name.',
  NODE_FULL: 'The storage nodes are full.',
  CHUNK_UNAVAILABLE: 'Part of this file cannot be read right now: the nodes holding it are offline.',
  FILE_NOT_FOUND: 'That file is no longer stored.',
  GATEWAY_UNREACHABLE: 'The gateway cannot be reached. Is it still running?',
  FORBIDDEN: 'Your login may not do this: log in with a token of a role that may (shoal token create --role …).',
  UNAUTHORIZED: 'You are not logged in, or your login has ended.',
  RATE_LIMITED: 'Too many failed logins from this address: wait a minute and try again.',
  TIMEOUT: 'A storage node took too long to answer.',
  NODE_NOT_SAFE_TO_REMOVE: 'The cluster still needs chunks that only this store holds. Adopt it, or delete it once they have been repaired elsewhere.',
};

/** `titles` words some codes for where the error happened, over the app-wide ones above. */
export function describeError(err: unknown, titles: Partial<Record<ErrorCode, string>> = {}): ErrorText {
  const e = toShoalError(err);
  return { title: titles[e.code] ?? TITLES[e.code] ?? 'Something went wrong.', detail: `${e.code}: ${e.message}`, code: e.code, message: e.message };
}
