import { Hono } from 'hono';
import { toShoalError } from '../../../shared/errors.ts';
import type { FileReader } from '../files/file-reader.ts';
import type { FileWriter } from '../files/file-writer.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { ChunkCollector } from '../healing/chunk-collector.ts';
import type { NodeAdmin } from '../healing/node-admin.ts';
import type { RepairService } from '../healing/repair-service.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { Invites } from '../nodes/invites.ts';
import type { NodeRegistry } from '../nodes/node-registry.ts';
import type { ClusterStatus } from '../status/cluster-status.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { eventRoutes } from './event-routes.ts';
import { fileRoutes } from './file-routes.ts';
import { inviteRoutes } from './invite-routes.ts';
import { localOnly } from './local-only.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import { nodeRoutes } from './node-routes.ts';
import { mountWebApp } from './web-app.ts';

export interface ApiServices {
  metadata: MetadataStore;
  registry: NodeRegistry;
  events: EventBus;
  reader: FileReader;
  writer: FileWriter;
  admin: NodeAdmin;
  repair: RepairService;
  collector: ChunkCollector;
  status: ClusterStatus;
  invites: Invites;
  origins: BrowserOrigins;
  /** Built web app to serve; absent means a placeholder page. */
  webRoot?: string;
}

/** The HTTP surface: the REST API of DESIGN.md section 3, then the web app. */
export function createApp(services: ApiServices): Hono {
  const app = new Hono();

  // Every error, typed or not, leaves here as JSON with its code's status.
  app.onError((err, c) => {
    const e = toShoalError(err);
    if (e.status >= 500 && e.code === 'INTERNAL') console.error(err);
    return c.json(e.toJSON(), e.status as 500, e.headers);
  });

  app.route('/api/files', fileRoutes(services.metadata, services.reader, services.writer, services.status));
  app.route('/api/nodes', nodeRoutes(services.registry, services.admin, services.status));
  app.route('/api/events', eventRoutes(services.events));
  app.use('/api/invites', localOnly(services.origins));
  app.use('/api/invites/*', localOnly(services.origins));
  app.route('/api/invites', inviteRoutes(services.invites));
  // Confirming lets collection delete past its limit: not for a page elsewhere to ask.
  app.use('/api/collection/*', localOnly(services.origins));
  app.route('/api', clusterRoutes(services.repair, services.collector, services.admin, services.status));
  mountWebApp(app, services.webRoot);
  return app;
}
