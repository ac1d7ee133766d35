#!/usr/bin/env -S node --single-threaded-gc --no-incremental-marking
// In a checkout, runs the TypeScript CLI through tsx, with no build step; in the installed package,
// which ships no .ts sources, runs the JavaScript that `npm pack` compiled into dist/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ca = takeCaOption() ?? process.env.SHOAL_CA;
if (ca !== undefined && process.env.NODE_EXTRA_CA_CERTS !== resolve(ca)) {
  // A private CA for https:// and wss:// gateways. Node reads NODE_EXTRA_CA_CERTS only as it
  // starts, and fetch and ws both trust what it names, so the command runs again with it set.
  if (!existsSync(ca)) {
    console.error(`shoal: --ca ${ca}: no such file`);
    process.exit(2);
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: resolve(ca) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else if (existsSync(new URL('./shoal.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./shoal.ts');
} else {
  await import('../../dist/server/cli/shoal.js');
}

/** Removes `--ca FILE` (or `--ca=FILE`) from the arguments the commands see, and says what it was. */
function takeCaOption() {
  const argv = process.argv;
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--ca' && i + 1 < argv.length) return argv.splice(i, 2)[1];
    if (argv[i].startsWith('--ca=')) return argv.splice(i, 1)[0].slice('--ca='.length);
  }
  return undefined;
}
