import { Hono } from 'hono';
import type { GatewayInfo } from '../../../shared/api-types.ts';
import type { GatewayDirectory } from '../cluster/gateway-directory.ts';

/** The id of the gateway holding the repair lease, or null while none does (or there is no lease). */
export type RepairerId = () => string | null | Promise<string | null>;

/** `GET /api/gateways`: every gateway of the cluster with its status, which one holds the repair lease, and which one answered. */
export function gatewayRoutes(directory: GatewayDirectory, self: string, repairer: RepairerId = () => null): Hono {
  const routes = new Hono();

  routes.get('/', async (c) => {
    const [listed, holder] = await Promise.all([directory.list(), repairer()]);
    const gateways: GatewayInfo[] = listed.map((gateway) => ({ ...gateway, repairer: gateway.id === holder, self: gateway.id === self }));
    return c.json({ gateways });
  });

  return routes;
}
