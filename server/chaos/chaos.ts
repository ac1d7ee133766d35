import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.ts';

/** `npm run chaos [-- --seconds 180] [-- --seed N]`: bounded, loopback only, stops by itself. */
const { values } = parseArgs({ options: { seconds: { type: 'string' }, seed: { type: 'string' } } });
const seconds = Number(values.seconds ?? 180);
const seed = Number(values.seed ?? Date.now() % 1e9);
console.log(`shoal chaos: ${seconds} s, 5 disk nodes, R=2, seed ${seed}`);
const result = await runChaos({ durationMs: seconds * 1000, seed, log: (line) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`) });
console.log(JSON.stringify(result));
process.exit(result.filesLost === 0 ? 0 : 1);
