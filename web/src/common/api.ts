import { ShoalClient } from '../../../shared/api-client.ts';

/** Fired on window whenever the gateway answers 401: the app then asks the user to log in. */
export const UNAUTHORIZED_EVENT = 'shoal-unauthorized';

/** The one API client every page uses: the gateway that served this page, with its session cookie. */
export const client = new ShoalClient(location.origin, { onUnauthorized: () => window.dispatchEvent(new Event(UNAUTHORIZED_EVENT)) });
