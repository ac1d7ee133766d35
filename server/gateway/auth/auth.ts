import { FailedAttempts } from './failed-attempts.ts';
import { LoginCodes } from './login-codes.ts';
import { Sessions } from './sessions.ts';
import type { TokenStore } from './token-store.ts';
import { ApiTokens } from './tokens.ts';

/** Everything that decides who a caller is: its tokens, browser sessions, login codes, and failures so far. */
export interface Auth {
  tokens: ApiTokens;
  sessions: Sessions;
  loginCodes: LoginCodes;
  failures: FailedAttempts;
}

export function createAuth(store: TokenStore): Auth {
  return { tokens: new ApiTokens(store), sessions: new Sessions(store), loginCodes: new LoginCodes(), failures: new FailedAttempts() };
}
