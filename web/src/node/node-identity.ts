/**
 * Which node a tab is. The id of the tab's node lives in sessionStorage, so a reload is the same
 * node and two tabs are two nodes. Every identity the cluster has admitted is also listed in
 * localStorage, with its token, so a store left behind by a closed tab can be adopted later; one
 * the gateway turned away (a revoked invite, say) is not, as no tab could ever serve with it.
 *
 * Each identity has a localStorage key of its own: tabs starting at once each write only their own,
 * where one shared list would lose entries to read-modify-write races between tabs.
 *
 * A Web Lock named after the node id is held for as long as a tab is that node. It settles who is
 * who: a duplicated tab copies sessionStorage but cannot get the lock, so it becomes a new node;
 * an identity whose lock nobody holds belongs to a closed tab and is free to adopt.
 */
export interface NodeIdentity {
  id: string;
  /** Answers the gateway's challenge on every connection; never sent. */
  token: string;
  capacityBytes: number;
  createdAt: string;
  /** The cluster this tab's chunks belong to, once it has joined one. */
  clusterId?: string;
}

export interface IdentityLease {
  identity: NodeIdentity;
  how: 'resumed' | 'adopted' | 'new';
  /** Lets go of the lock, leaving the identity behind for another tab may adopt. */
  release(): void;
}

const SESSION_KEY = 'shoal.nodeId';
const KNOWN_PREFIX = 'shoal.node.';
/**
 * A reloaded page may ask for its lock before the browser has taken it from the page it replaced.
 * A duplicated tab waits this long too, then finds the lock still held and starts afresh.
 */
const RELOAD_GRACE_MS = 2000;

const lockName = (id: string) => `shoal-node-${id}`;

/** The identity this tab had before a reload, when no other tab is using it. */
export async function resumeIdentity(): Promise<IdentityLease | null> {
  const id = sessionStorage.getItem(SESSION_KEY);
  const identity = id ? readIdentity(id) : null;
  if (!identity) return null;
  const release = await acquire(identity.id, RELOAD_GRACE_MS);
  return release && lease(identity, 'resumed', release);
}

/** Takes over an identity a closed tab left behind; null when a tab holds it after all. */
export async function adoptIdentity(id: string): Promise<IdentityLease | null> {
  const identity = readIdentity(id);
  if (!identity) return null;
  const release = await acquire(id, 0);
  return release && lease(identity, 'adopted', release);
}

/** A fresh identity, kept for this tab only until the cluster admits it (then `saveIdentity`). */
export async function createIdentity(capacityBytes: number): Promise<IdentityLease> {
  const random = crypto.getRandomValues(new Uint8Array(20));
  const hex = [...random].map((b) => b.toString(16).padStart(2, '0')).join('');
  const identity: NodeIdentity = { id: `tab-${hex.slice(0, 8)}`, token: hex.slice(8), capacityBytes, createdAt: new Date().toISOString() };
  const release = await acquire(identity.id, 0);
  if (!release) throw new Error(`the lock of new node ${identity.id} is taken`);
  return lease(identity, 'new', release);
}

/** Identities this browser made whose tab is gone. */
export async function leftBehindIdentities(): Promise<NodeIdentity[]> {
  const { held = [] } = await navigator.locks.query();
  const taken = new Set(held.map((lock) => lock.name));
  const ids = Object.keys(localStorage).filter((key) => key.startsWith(KNOWN_PREFIX)).map((key) => key.slice(KNOWN_PREFIX.length));
  return ids.filter((id) => !taken.has(lockName(id))).flatMap((id) => readIdentity(id) ?? []);
}

export function saveIdentity(identity: NodeIdentity): void {
  localStorage.setItem(KNOWN_PREFIX + identity.id, JSON.stringify(identity));
}

/** Drops an identity from the list; its store must be deleted by the caller. */
export function forgetIdentity(id: string): void {
  localStorage.removeItem(KNOWN_PREFIX + id);
}

/** Holds `id`'s lock for a while (for a cleanup), so no tab adopts it meanwhile; null when taken. */
export function lockLeftBehind(id: string): Promise<(() => void) | null> {
  return acquire(id, 0);
}

function lease(identity: NodeIdentity, how: IdentityLease['how'], release: () => void): IdentityLease {
  sessionStorage.setItem(SESSION_KEY, identity.id);
  return { identity, how, release };
}

function readIdentity(id: string): NodeIdentity | null {
  try {
    return JSON.parse(localStorage.getItem(KNOWN_PREFIX + id) ?? 'null') as NodeIdentity | null;
  } catch {
    return null;
  }
}

/**
 * Resolves with a function that releases the lock once it is held, or null when it cannot be had
 * within `waitMs` (0: only if free right now). The lock is held until released or the tab goes.
 */
function acquire(id: string, waitMs: number): Promise<(() => void) | null> {
  return new Promise((resolve) => {
    const options: LockOptions = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
    navigator.locks
      .request(lockName(id), options, (lock) => {
        if (!lock) return resolve(null);
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch(() => resolve(null));
  });
}
