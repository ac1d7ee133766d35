import { ShoalClient } from '../../../shared/api-client.ts';

/** The one API client every page uses: the gateway that served this page. */
export const client = new ShoalClient(location.origin);
