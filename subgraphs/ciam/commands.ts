import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ConflictError } from '../../platform/errors.ts';
import * as input from '../../platform/domain/input.ts';
import type { CommandHandler, Evolver } from '../../platform/event-store/command-handler.ts';
import type { EventMetadata, RecordedEvent } from '../../platform/event-store/types.ts';
import { sqlState } from '../../platform/postgres/pool.ts';
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
export interface CommandContext {
  actor: EventMetadata['actor'];
  correlationId: string;
}

/**
 * The CIAM write side: each change is one command on one aggregate, appended and
 * projected in one transaction.
 */
export class CiamCommands {
  constructor(readonly handler: CommandHandler) {}

  async run<S>(
    ctx: CommandContext,
    streamId: string,
    evolver: Evolver<S, CiamEvent>,
    decide: (state: S, tx: pg.PoolClient) => CiamEvent[] | Promise<CiamEvent[]>,
    opts: { subjects: string[]; companyId: string | null | ((state: S) => string | null); expectedVersion?: number | null },
  ) {
    const metadata = (state: S): EventMetadata => ({
      actor: ctx.actor,
      companyId: typeof opts.companyId === 'function' ? opts.companyId(state) : opts.companyId,
      correlationId: ctx.correlationId,
      subjects: opts.subjects,
    });
    if (opts.expectedVersion != null) input.intInRange(opts.expectedVersion, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER);
    try {
      return await this.handler.handle<S, CiamEvent>({
        streamId,
        evolver,
        metadata,
        expectedVersion: opts.expectedVersion ?? undefined,
        decide: async (state, _v, tx) => validated(await decide(state, tx)),
        project: (tx, events) => projectCiam(tx, events as RecordedEvent[]),
      });
    } catch (err) {
      const constraint = (err as pg.DatabaseError).constraint;
      if (sqlState(err) === '23505' && constraint && UNIQUE_MESSAGES[constraint]) throw new ConflictError(UNIQUE_MESSAGES[constraint], { constraint });
      throw err;
    }
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

/** Checks decided events against their contracts: a bug here must never reach the log. */
function validated(events: CiamEvent[]): CiamEvent[] {
  for (const e of events) ciamEvents[e.type].data.parse(e.data);
  return events;
}
