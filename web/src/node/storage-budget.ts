const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** What a new tab offers unless told otherwise: useful, but far from all the browser would allow. */
const DEFAULT_CAPACITY = GiB;
const MIN_CAPACITY = 64 * MiB;

export interface StorageBudget {
  /** What this site may store in all, by the browser's estimate. */
  quotaBytes: number;
  /** What this site stores now, every node store of this browser included. */
  usageBytes: number;
  /** The browser promised not to evict this site's data under storage pressure. */
  persisted: boolean;
}

/** Browsers may grant persistent storage silently, ask the user, or refuse. */
export function requestPersistence(): Promise<boolean> {
  return navigator.storage.persist().catch(() => false);
}

export async function storageBudget(): Promise<StorageBudget> {
  const [persisted, { quota = 0, usage = 0 }] = await Promise.all([navigator.storage.persisted(), navigator.storage.estimate()]);
  return { quotaBytes: quota, usageBytes: usage, persisted };
}

/** The most a node may offer: what is free for the site, plus what this node already holds. */
export function maxCapacity(budget: StorageBudget, heldBytes: number): number {
  return Math.max(MIN_CAPACITY, budget.quotaBytes - budget.usageBytes + heldBytes);
}

export function defaultCapacity(budget: StorageBudget): number {
  return Math.min(DEFAULT_CAPACITY, Math.max(MIN_CAPACITY, Math.floor((budget.quotaBytes - budget.usageBytes) / 2)));
}

export function clampCapacity(bytes: number, budget: StorageBudget, heldBytes: number): number {
  return Math.min(maxCapacity(budget, heldBytes), Math.max(MIN_CAPACITY, Math.round(bytes)));
}
