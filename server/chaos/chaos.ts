import { parseArgs } from 'node:util';
import { postgresBinDir } from '../testing/postgres-server.ts';
import { runChaos } from './chaos-run.ts';

/** `npm run chaos [-- --seconds 180] [-- --seed N] [-- --gateways 3]`: bounded, loopback only, stops by itself. */
const { values } = parseArgs({ options: { seconds: { type: 'string' }, seed: { type: 'string' }, gateways: { type: 'string' } } });
const seconds = Number(values.seconds ?? 180);
const seed = Number(values.seed ?? Date.now() % 1e9);
const gateways = Number(values.gateways ?? 1);
if (!Number.isInteger(gateways) || gateways < 1) {
  console.error(`shoal chaos: --gateways takes a whole number of gateways, not ${values.gateways}`);
  process.exit(2);
}
if (gateways > 1 && !postgresBinDir()) {
  console.error(`shoal chaos: --gateways ${gateways} runs a PostgreSQL server of its own for them to share: install PostgreSQL 15 or newer (Debian: apt-get install postgresql)`);
  process.exit(2);
}
const where = gateways > 1 ? `${gateways} gateways on PostgreSQL` : 'one gateway';
console.log(`shoal chaos: ${seconds} s, ${where}, 5 disk nodes, R=2, seed ${seed}`);
const result = await runChaos({ durationMs: seconds * 1000, gateways, seed, log: (line) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`) });
console.log(JSON.stringify(result));
process.exit(result.filesLost === 0 ? 0 : 1);
