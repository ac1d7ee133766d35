import { isIPv6 } from 'node:net';
import { TokenBucket } from '../../lib/token-bucket.ts';

export interface FailedAttemptsOptions {
  /** Failures an address may make at once. */
  burst: number;
  /** Failures an address earns back per minute. */
  perMinute: number;
  /** Addresses remembered at most; past it the longest-known one is forgotten. */
  maxAddresses: number;
}

export const DEFAULT_FAILED_ATTEMPTS: FailedAttemptsOptions = { burst: 10, perMinute: 10, maxAddresses: 10_000 };

/**
 * Failed authentications per client address, as a token bucket each: an address that spent its
 * burst waits, whatever it sends, so guessing tokens runs at `perMinute`. An IPv6 client is
 * counted by its /64, which one machine usually holds whole.
 */
export class FailedAttempts {
  readonly #options: FailedAttemptsOptions;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: FailedAttemptsOptions = DEFAULT_FAILED_ATTEMPTS) {
    this.#options = options;
  }

  /** Seconds `address` must wait before it may try again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const bucket = this.#buckets.get(addressKey(address));
    return bucket ? Math.ceil(bucket.msUntil(1) / 1000) : 0;
  }

  failed(address: string): void {
    const key = addressKey(address);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      this.#makeRoom();
      bucket = new TokenBucket(this.#options.perMinute / 60, this.#options.burst);
      this.#buckets.set(key, bucket);
    }
    bucket.tryTake(1);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #makeRoom(): void {
    if (this.#buckets.size < this.#options.maxAddresses) return;
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
    if (this.#buckets.size >= this.#options.maxAddresses) this.#buckets.delete(this.#buckets.keys().next().value!);
  }
}

function addressKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!isIPv6(address)) return address;
  return expandIPv6(address).slice(0, 4).join(':');
}

function expandIPv6(address: string): string[] {
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
}
