import { randomBytes } from 'node:crypto';

/**
 * A lease holder names one gateway process, not just the gateway id: two processes started from
 * a copied data directory share the id, and a holder keyed by the id alone would let each take
 * (or renew) what the other holds, both believing they hold it.
 */
export function processHolder(gatewayId: string): string {
  return `${gatewayId}/${randomBytes(6).toString('hex')}`;
}

/** The gateway id a holder stands for. */
export function holderGateway(holder: string): string {
  const slash = holder.indexOf('/');
  return slash < 0 ? holder : holder.slice(0, slash);
}
