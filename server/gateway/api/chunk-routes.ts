import { Hono } from 'hono';
import { ShoalError } from '../../../shared/errors.ts';
import type { FileDetails } from '../status/file-detail.ts';

/** `/api/chunks?file=<name>`: each chunk of a file and the nodes that hold it. */
export function chunkRoutes(details: FileDetails): Hono {
  const chunks = new Hono();
  chunks.get('/', async (c) => {
    const name = c.req.query('file');
    if (!name) throw new ShoalError('BAD_REQUEST', 'name the file: /api/chunks?file=<name>');
    return c.json(await details.detail(name));
  });
  return chunks;
}
