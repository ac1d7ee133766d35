import { ShoalError, toShoalError } from '../../shared/errors.ts';
import { gcCommand, rebalanceCommand, scrubCommand } from './commands/cluster.ts';
import { demoCommand } from './commands/demo.ts';
import { downloadCommand, lsCommand, rmCommand, statusCommand, uploadCommand } from './commands/files.ts';
import { gatewayCommand } from './commands/gateway.ts';
import { inviteCommand } from './commands/invite.ts';
import { nodeCommand } from './commands/node.ts';
import { backupCommand, recoverCommand } from './commands/recovery.ts';

const USAGE = `shoal: pooled storage on disks and browser tabs

  shoal gateway [--port 8000] [--host 127.0.0.1] [--data DIR] [--replicas 2] [--chunk-size 4MiB]
                [--repair-after 60s] [--repair-rate 64MiB] [--gc-grace 10m] [--gc-max-share 10%]
                [--keep-deletions 30d] [--allowed-origins URL,URL]  other sites whose pages may make tabs nodes
  shoal backup <file>                        a consistent copy of the metadata, the gateway running or not
  shoal recover [--from BACKUP] [--wait 60s] [--allow-missing] [--port 8000]
                                             rebuild the metadata from the nodes, the gateway stopped
  shoal node create <id> [--storage 1GB] [--cpu 2] [--gateway URL] [--dir PATH]
  shoal node start <id...> [--scrub-interval 1h] [--scrub-rate 16MiB] [--join SECRET|INVITE] | node list
  shoal node drain <id> [--no-wait] | node remove <id> [--force]
  shoal invite create [--expires 1h|never] [--uses N] [--label TEXT]
                                             a link that lets browser tabs join as nodes
  shoal invite list | invite revoke <id>
  shoal upload <files...> [--name NAME]      shoal download <name> [-o PATH]
  shoal ls | rm <name...> | status | rebalance [--no-wait] | scrub
  shoal gc confirm                           let collection go on where it paused at its limit
  shoal demo                                 gateway + 3 disk nodes (what npm start runs)

Every command takes --data DIR (env SHOAL_DATA, default ./shoal-data); client commands take
--gateway URL (env SHOAL_GATEWAY, default http://127.0.0.1:8000).`;

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  gateway: gatewayCommand,
  node: nodeCommand,
  invite: inviteCommand,
  upload: uploadCommand,
  download: downloadCommand,
  ls: lsCommand,
  rm: rmCommand,
  status: statusCommand,
  rebalance: rebalanceCommand,
  scrub: scrubCommand,
  gc: gcCommand,
  backup: backupCommand,
  recover: recoverCommand,
  demo: demoCommand,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h' || args.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new ShoalError('BAD_REQUEST', `unknown command ${JSON.stringify(name)}; run shoal --help`);
  await command(args);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = toShoalError(err);
  if (e.code === 'INTERNAL' && process.env.SHOAL_DEBUG) console.error(err);
  console.error(`shoal: ${e.message}`);
  process.exit(e.code === 'BAD_REQUEST' ? 2 : 1);
});
