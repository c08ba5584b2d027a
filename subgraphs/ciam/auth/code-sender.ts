import type { Logger } from '../../../platform/logger.ts';
import type { AccountKind } from '../domain/login.ts';

/** Who a one-time code goes to. */
export interface CodeRecipient {
  accountId: string;
  accountKind: AccountKind;
  /** Internal users: their email. */
  email: string | null;
  /** Workers: their RUT (a delivery adapter looks up the phone). */
  rut: string | null;
}

/** Delivers one-time codes (email, SMS, ...). Pluggable: pass one to startCiam. */
export interface CodeSender {
  send(to: CodeRecipient, code: string, expiresAt: Date): Promise<void>;
}

/**
 * The default sender: writes the code to the log outside production, so development needs
 * no mail server; in production it only warns that no sender is configured.
 */
export function logCodeSender(log: Logger, nodeEnv: string): CodeSender {
  return {
    async send(to, code, expiresAt) {
      if (nodeEnv === 'production') {
        log.warn({ accountId: to.accountId }, 'no one-time code sender configured: the code was not delivered');
        return;
      }
      log.info({ accountId: to.accountId, email: to.email, rut: to.rut, code, expiresAt }, 'one-time login code (development only)');
    },
  };
}
