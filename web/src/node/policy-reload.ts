/**
 * A page keeps the Content-Security-Policy it was loaded with, and its connect-src names the node
 * sockets of the gateways its own gateway knew of then (api/security-headers.ts). A gateway that
 * joined later, or that its gateway had not yet seen online when it served the page, stays blocked
 * however often the tab is told of it: only a reload brings a policy that names it. One at most
 * every RELOAD_EVERY_MS, so a gateway the page's own gateway does not list cannot keep the tab
 * reloading; the tab resumes the same node after a reload (node-identity.ts).
 */
const RELOADED_AT_KEY = 'shoal.policyReloadAt';
const RELOAD_EVERY_MS = 10 * 60 * 1000;
/**
 * Tabs told of a new gateway together reload at random moments within this, so the cluster does
 * not lose all its tab nodes at the same moment.
 */
const RELOAD_SPREAD_MS = 10 * 1000;
/** The hosts a gateway can name in a policy (gateway-announcer.ts): for any other, a reload would change nothing. */
const NAMEABLE_HOST = /^[a-z0-9.\-[\]:]+$/i;

/** Reloads the page when its policy blocks the socket of a gateway the node links to; returns the way to stop. */
export function reloadWhenGatewayBlocked(linkedUrls: () => readonly string[]): () => void {
  let pending: ReturnType<typeof setTimeout> | undefined;
  const onViolation = (event: SecurityPolicyViolationEvent): void => {
    if (!event.isTrusted || pending !== undefined || event.effectiveDirective !== 'connect-src') return;
    const blocked = socketHost(event.blockedURI);
    if (blocked === null || !NAMEABLE_HOST.test(blocked) || !linkedUrls().some((url) => socketHost(url) === blocked)) return;
    const last = Number(sessionStorage.getItem(RELOADED_AT_KEY)) || 0;
    if (Date.now() - last < RELOAD_EVERY_MS) return;
    pending = setTimeout(() => {
      sessionStorage.setItem(RELOADED_AT_KEY, String(Date.now()));
      location.reload();
    }, Math.random() * RELOAD_SPREAD_MS);
  };
  document.addEventListener('securitypolicyviolation', onViolation);
  return () => {
    clearTimeout(pending);
    document.removeEventListener('securitypolicyviolation', onViolation);
  };
}

/** The host of a ws:// or wss:// URL; a browser may report a blocked URL cut down to its origin. */
function socketHost(url: string): string | null {
  try {
    const { protocol, host } = new URL(url);
    return protocol === 'ws:' || protocol === 'wss:' ? host : null;
  } catch {
    return null;
  }
}
