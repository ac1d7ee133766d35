import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalClient } from '../../shared/api-client.ts';
import { ADMIN_TOKEN_FILE } from '../gateway/auth/tokens.ts';
import type { CommandInput } from './command-spec.ts';

/** The API client a command talks to the gateway with, as its flags and environment describe it. */
export function clientFor(input: Pick<CommandInput, 'gatewayUrl' | 'values' | 'dataDir'>): ShoalClient {
  return new ShoalClient(input.gatewayUrl, { token: tokenFor(input) });
}

/**
 * --token, else SHOAL_TOKEN, else the admin token the gateway keeps in the data directory: on the
 * gateway's own machine, with the same --data, commands need no token named.
 */
export function tokenFor(input: Pick<CommandInput, 'values' | 'dataDir'>): string | undefined {
  const given = input.values.token;
  if (typeof given === 'string') return given;
  if (process.env.SHOAL_TOKEN) return process.env.SHOAL_TOKEN;
  try {
    return readFileSync(join(input.dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}
