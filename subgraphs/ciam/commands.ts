import { createHash, randomUUID } from 'node:crypto';
import type { CommandHandler, Evolver } from '../../platform/event-store/command-handler.ts';
import { domainCommandRunner, type ActingContext } from '../../platform/event-store/domain-commands.ts';
import { ciamEvents, type CiamEvent } from '../../schema/events/ciam.ts';
import { decideInternalUser, internalUser, internalUserStream, type InternalUserState } from './domain/internal-user.ts';
import type { AccountKind } from './domain/login.ts';
import { decideRotation, SIGNING_KEYS_STREAM, signingKeys, type NewKey } from './domain/signing-keys.ts';
import { decideWorkerAccount, workerAccount, workerAccountStream, type WorkerAccountState } from './domain/worker-account.ts';
import { projectCiam } from './store/projection.ts';

const UNIQUE_MESSAGES: Record<string, string> = {
  internal_users_email_key: 'A user with this email already exists',
  worker_accounts_rut_key: 'Another profile already logs in with this RUT',
};

/** Who acts: a signed-in identity, the account logging in, or the system. */
export type CommandContext = ActingContext;

/**
 * The CIAM write side: each change is one command on one aggregate, appended and
 * projected in one transaction.
 */
export class CiamCommands {
  /** Runs one command on one aggregate (platform/event-store/domain-commands.ts). */
  readonly run: ReturnType<typeof domainCommandRunner<CiamEvent>>;

  readonly handler: CommandHandler;

  constructor(handler: CommandHandler) {
    this.handler = handler;
    this.run = domainCommandRunner<CiamEvent>(handler, { contracts: ciamEvents, project: projectCiam, uniqueMessages: UNIQUE_MESSAGES });
  }

  /** Runs a decision on an internal user. */
  onUser(ctx: CommandContext, userId: string, decide: (s: InternalUserState) => CiamEvent[], expectedVersion?: number | null) {
    return this.run(ctx, internalUserStream(userId), internalUser, decide, { subjects: [userId], companyId: (s) => s.companyId, expectedVersion });
  }

  /** Runs a decision on a worker account. */
  onWorker(ctx: CommandContext, profileId: string, decide: (s: WorkerAccountState) => CiamEvent[]) {
    return this.run(ctx, workerAccountStream(profileId), workerAccount, decide, { subjects: [profileId], companyId: (s) => s.companyId });
  }

  /** Runs a decision on the account of either kind. */
  onAccount(ctx: CommandContext, kind: AccountKind, accountId: string, decide: (s: { lock: InternalUserState['lock'] }) => CiamEvent[]) {
    return kind === 'internal-user' ? this.onUser(ctx, accountId, decide) : this.onWorker(ctx, accountId, decide);
  }

  async inviteUser(
    ctx: CommandContext,
    args: { email: unknown; name: unknown; role: unknown; companyId?: unknown },
    invite: { tokenHash: string; expiresAt: string },
  ): Promise<string> {
    const userId = randomUUID();
    await this.run(
      ctx,
      internalUserStream(userId),
      internalUser,
      (s) => decideInternalUser.invite(s, { ...args, userId, inviteTokenHash: invite.tokenHash, inviteExpiresAt: invite.expiresAt }),
      { subjects: [userId], companyId: (s) => s.companyId, expectedVersion: 0 },
    );
    return userId;
  }

  async enableWorkerLogin(ctx: CommandContext, args: { profileId: string; rut: unknown; companyId: string }): Promise<void> {
    await this.onWorker(ctx, args.profileId, (s) => decideWorkerAccount.enable(s, args));
  }

  /** Records a failed login for an account that does not exist (its own small stream). */
  async unknownAccountFailure(ctx: CommandContext, identifier: string, address: string | null): Promise<void> {
    const stream = `unknown-login-${createHash('sha256').update(identifier).digest('hex').slice(0, 32)}`;
    const evolver: Evolver<number, CiamEvent> = { initialState: () => 0, evolve: (n) => n + 1 };
    await this.run(
      ctx,
      stream,
      evolver,
      (n) => [
        { type: 'LoginFailed', data: { accountId: null, accountKind: null, identifier, reason: 'UNKNOWN_ACCOUNT', failures: n + 1, address } },
      ],
      { subjects: [], companyId: null },
    );
  }

  /** Adds a signing key when rotation is due (or forced); true when one was added. */
  async rotateSigningKey(ctx: CommandContext, cmd: { now: Date; rotationMs: number; activationDelayMs: number; force: boolean; key: NewKey }) {
    const { events } = await this.run(ctx, SIGNING_KEYS_STREAM, signingKeys, (s) => decideRotation(s, cmd), { subjects: [], companyId: null });
    return events.length > 0;
  }
}
