// Shared with the web app, which shows and reads sizes the same way.
export { formatBytes, formatRate, parseDuration, parseSize } from '../../shared/units.ts';
