import type { CommandSpec } from './command-spec.ts';
import { gcConfirmCommand, rebalanceCommand, scrubCommand } from './commands/cluster.ts';
import { demoCommand } from './commands/demo.ts';
import { downloadCommand, lsCommand, rmCommand, statusCommand, uploadCommand } from './commands/files.ts';
import { gatewayCommand } from './commands/gateway.ts';
import { keyExportCommand, keyImportCommand } from './commands/key.ts';
import { inviteCreateCommand, inviteListCommand, inviteRevokeCommand } from './commands/invite.ts';
import { nodeCreateCommand, nodeDrainCommand, nodeListCommand, nodeRemoveCommand, nodeStartCommand, nodeTrustCommand } from './commands/node.ts';
import { backupCommand, recoverCommand } from './commands/recovery.ts';
import { resetCommand } from './commands/reset.ts';
import { loginLinkCommand, tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './commands/token.ts';
import { s3KeyCreateCommand, s3KeyListCommand, s3KeyRevokeCommand } from './commands/s3.ts';

/** Every `shoal` command, in the order `shoal --help` lists them (grouped by each one's `group`). */
export const COMMANDS: readonly CommandSpec[] = [
  uploadCommand,
  downloadCommand,
  lsCommand,
  rmCommand,
  statusCommand,
  rebalanceCommand,
  scrubCommand,
  gcConfirmCommand,
  nodeCreateCommand,
  nodeStartCommand,
  nodeListCommand,
  nodeDrainCommand,
  nodeTrustCommand,
  nodeRemoveCommand,
  inviteCreateCommand,
  inviteListCommand,
  inviteRevokeCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  loginLinkCommand,
  s3KeyCreateCommand,
  s3KeyListCommand,
  s3KeyRevokeCommand,
  gatewayCommand,
  keyExportCommand,
  keyImportCommand,
  demoCommand,
  backupCommand,
  recoverCommand,
  resetCommand,
];
