import { Hono } from 'hono';
import type { Auth } from '../auth/auth.ts';
import { mountAccessControl } from './auth-routes.ts';
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
import type { FileDetails } from '../status/file-detail.ts';
import { chunkRoutes } from './chunk-routes.ts';
import { tusRoutes } from './tus-routes.ts';
import type { ResumableUploads } from '../files/resumable-uploads.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { localRepairer, type RepairerFront } from '../cluster/repairer-front.ts';
import { eventRoutes } from './event-routes.ts';
import { fileRoutes } from './file-routes.ts';
import { inviteRoutes } from './invite-routes.ts';
import type { BrowserOrigins } from '../browser-origin.ts';
import { nodeRoutes } from './node-routes.ts';
import { mountWebApp } from './web-app.ts';
import type { UploadAdmission } from '../files/upload-admission.ts';
import { refuseDotSegments } from './raw-path.ts';
import { clientAddress, forwardedClient } from './client-address.ts';
import { securityHeaders } from './security-headers.ts';
import type { GatewayMetrics } from '../status/gateway-metrics.ts';
import { metricsRoutes, requestMetrics } from './metrics-routes.ts';
import { countThroughput } from './count-throughput.ts';
import { BULK_PATH } from '../../../shared/protocol.ts';
import type { BulkTransfers } from '../nodes/bulk-transfers.ts';
import { bulkRoutes } from './bulk-routes.ts';
import type { Throughput } from '../status/throughput.ts';

export interface ApiServices {
  metadata: MetadataStore;
  registry: NodeRegistry;
  events: EventBus;
  reader: FileReader;
  writer: FileWriter;
  admin: NodeAdmin;
  repair: RepairService;
  collector: ChunkCollector;
  /** The background work as the admin API reaches it (on the repair lease holder); `repair` and `collector` when absent. */
  repairer?: RepairerFront;
  status: ClusterStatus;
  details: FileDetails;
  /** Uploads sent in pieces (tus). */
  uploads: ResumableUploads;
  invites: Invites;
  origins: BrowserOrigins;
  /** Which uploads may start now (how many at once, whether their declared size fits). */
  admission: UploadAdmission;
  /** Reverse proxies whose X-Forwarded-For/-Proto are believed (clientAddress, isSecure). */
  trustedProxies: readonly string[];
  auth: Auth;
  /** Bytes the file API reads and writes, for GET /api/stats. */
  throughput: Throughput;
  /** The cluster's gateways (gateway-routes.ts), mounted at /api/gateways. */
  gateways?: Hono;
  /** The S3 access keys' admin routes (s3/key-routes.ts), mounted at /api/s3/keys when the S3 API is on. */
  s3Keys?: Hono;
  /** Served at /metrics, and counting every request. */
  metrics: GatewayMetrics;
  /** The --metrics-token-file secret, which may scrape /metrics and nothing else. */
  scrapeToken?: string;
  /** Browser nodes' chunk transfers over HTTP, served at BULK_PATH. */
  bulk?: BulkTransfers;
  /** The node sockets of the cluster's other gateways, which the web app's node page may open (CSP connect-src). */
  peerSockets?: () => readonly string[];
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

  app.use('*', requestMetrics(services.metrics.http));
  app.use('*', securityHeaders(services.peerSockets));
  app.use('*', refuseDotSegments());
  app.use('*', forwardedClient(services.trustedProxies));

  mountAccessControl(app, services.auth, services.origins, clientAddress);
  app.use('/api/files/*', countThroughput(services.throughput));
  app.use('/api/uploads/*', countThroughput(services.throughput));
  app.get('/api/stats', (c) => c.json(services.throughput.snapshot()));
  app.route('/api/files', fileRoutes(services.metadata, services.reader, services.writer, services.status, services.admission));
  app.route('/api/chunks', chunkRoutes(services.details));
  app.route('/api/uploads', tusRoutes(services.uploads, services.writer, services.admission));
  app.route('/api/nodes', nodeRoutes(services.registry, services.admin, services.status));
  app.route('/api/events', eventRoutes(services.events));
  app.route('/api/invites', inviteRoutes(services.invites));
  if (services.gateways) app.route('/api/gateways', services.gateways);
  if (services.s3Keys) app.route('/api/s3/keys', services.s3Keys);
  app.route('/api', clusterRoutes(services.repairer ?? localRepairer(services.repair, services.collector), services.admin, services.status));
  app.route('/metrics', metricsRoutes(services.metrics, services.auth, services.scrapeToken));
  if (services.bulk) app.route(BULK_PATH, bulkRoutes(services.bulk, services.origins));
  mountWebApp(app, services.webRoot);
  return app;
}
