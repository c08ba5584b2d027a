import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import type { Identity } from '../../platform/auth/identity.ts';
import { BadUserInputError, UnauthenticatedError } from '../../platform/errors.ts';
import * as input from '../../platform/domain/input.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import type { AccessTokens } from './auth/signing-keys.ts';
import type { CodeSender } from './auth/code-sender.ts';
import type { OneTimeCodes } from './auth/one-time-codes.ts';
import type { LoginRateLimiter } from './auth/rate-limit.ts';
import { randomToken, type CiamSecrets } from './auth/secrets.ts';
import type { Sessions } from './auth/sessions.ts';
import type { CiamCommands, CommandContext } from './commands.ts';
import { checkPassword, decideInternalUser } from './domain/internal-user.ts';
import {
  attemptOutcome, decideCodeSent, decideFailure, decideLockedAttempt, decideRevoked, decideSuccess, isLocked, lockSecondsLeft,
  type AccountKind, type LockoutPolicy,
} from './domain/login.ts';
import { normalizeRut } from '../../platform/domain/rut.ts';
import { readModel } from './store/read-model.ts';

/** A started login: the code went out; `verifyLoginCode` finishes it. */
export interface LoginChallenge {
  challengeId: string;
  expiresAt: Date;
}

/** What a finished login or a refresh returns. */
export interface AuthTokens {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
  identity: Identity;
}

export interface AuthenticationDeps {
  db: Db;
  commands: CiamCommands;
  tokens: AccessTokens;
  sessions: Sessions;
  codes: OneTimeCodes;
  limiter: LoginRateLimiter;
  sender: CodeSender;
  secrets: CiamSecrets;
  lockout: LockoutPolicy;
  inviteTtlMs: number;
  log: Logger;
}

const WRONG_CREDENTIALS = 'Wrong email or password';
// Only when no code can work any more: while attempts remain, the right code still does.
const CODE_GONE = 'The code expired or was used up; start the login again';
// Verified against when the email is unknown, so both cases take as long.
const DUMMY_HASH = argonHash('angelis-timing-equaliser');

/** Who acts for an event written by a login: the account itself, or the system when unknown. */
const accountActor = (id: string, kind: AccountKind): CommandContext['actor'] => ({ id, kind });
const SYSTEM = { id: 'ciam', kind: 'system' as const };

/**
 * The login flows: invites, passwords, one-time codes, sessions and tokens. Every outcome
 * is an event on the account's stream (the audit trail); short-lived state (codes,
 * sessions, counters) is in the key-value store.
 */
export class Authentication {
  private readonly d: AuthenticationDeps;

  constructor(d: AuthenticationDeps) {
    this.d = d;
  }

  private hashInvite(token: string) {
    return this.d.secrets.mac(`invite:${token}`);
  }

  /** Invites an internal user; returns the id and the invite token (shown once). */
  async invite(ctx: CommandContext, args: { email: unknown; name: unknown; role: unknown; companyId?: unknown }) {
    const secret = randomToken();
    const expiresAt = new Date(Date.now() + this.d.inviteTtlMs);
    const userId = await this.d.commands.inviteUser(ctx, args, { tokenHash: this.hashInvite(secret), expiresAt: expiresAt.toISOString() });
    return { userId, inviteToken: `${userId}.${secret}`, inviteExpiresAt: expiresAt };
  }

  /** Accepts an invite: sets the password (argon2id) and activates the account. */
  async setPassword(correlationId: string, inviteToken: unknown, password: unknown): Promise<string> {
    const m = typeof inviteToken === 'string' ? /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(inviteToken) : null;
    if (!m || !input.isId(m[1])) throw new UnauthenticatedError('The invite token is not valid');
    const plain = checkPassword(password);
    const passwordHash = await argonHash(plain);
    const userId = m[1];
    await this.d.commands.onUser({ actor: accountActor(userId, 'internal-user'), correlationId }, userId, (s) => {
      if (s.id === null) throw new UnauthenticatedError('The invite token is not valid');
      return decideInternalUser.setPassword(s, { tokenHash: this.hashInvite(m[2]), passwordHash, now: new Date() });
    });
    return userId;
  }

  /** First factor for internal users: email and password; a one-time code goes out. */
  async login(correlationId: string, address: string | null, email: unknown, password: unknown): Promise<LoginChallenge> {
    const normalized = typeof email === 'string' ? email.trim().toLowerCase() : '';
    if (!normalized || normalized.length > 254 || typeof password !== 'string' || password.length > 200) {
      throw new BadUserInputError('email and password are required');
    }
    await this.d.limiter.attempt(`email:${normalized}`, address);
    const user = await readModel.userByEmail(this.d.db.pool, normalized);
    if (!user) {
      await argonVerify(await DUMMY_HASH, password).catch(() => false);
      await this.d.commands.unknownAccountFailure({ actor: SYSTEM, correlationId }, normalized, address);
      throw new UnauthenticatedError(WRONG_CREDENTIALS);
    }
    const ctx = { actor: accountActor(user.id, 'internal-user'), correlationId };
    const attempt = { accountId: user.id, accountKind: 'internal-user' as const, address, now: new Date() };
    // Decided on the aggregate (not the read row) so concurrent failures count exactly.
    const passwordOk = user.passwordHash ? await argonVerify(user.passwordHash, password).catch(() => false) : false;
    const challenge = passwordOk ? await this.d.codes.issue({ accountId: user.id, accountKind: 'internal-user' }) : null;
    const decided = await this.d.commands.onUser(ctx, user.id, (s) => {
      if (isLocked(s.lock, attempt.now)) return decideLockedAttempt(s.lock, attempt);
      if (s.status !== 'ACTIVE') return decideFailure(s.lock, { ...attempt, reason: 'NOT_ACTIVE' }, this.d.lockout);
      if (!challenge) return decideFailure(s.lock, { ...attempt, reason: 'WRONG_PASSWORD' }, this.d.lockout);
      return decideCodeSent({ ...attempt, challengeId: challenge.challengeId });
    });
    const outcome = attemptOutcome(decided.events);
    const lockedFor = lockSecondsLeft(decided.state.lock, attempt.now);
    if (outcome !== 'ok' || !challenge) {
      if (challenge) await this.d.codes.cancel(challenge.challengeId);
      if (outcome === 'locked') throw lockedError(lockedFor);
      throw new UnauthenticatedError(WRONG_CREDENTIALS);
    }
    await this.d.sender.send({ accountId: user.id, accountKind: 'internal-user', email: user.email, rut: null }, challenge.code, challenge.expiresAt);
    return { challengeId: challenge.challengeId, expiresAt: challenge.expiresAt };
  }

  /** Workers: a one-time code for a RUT (in any format). An unknown RUT gets a decoy challenge. */
  async requestWorkerCode(correlationId: string, address: string | null, rut: unknown): Promise<LoginChallenge> {
    const normalized = normalizeRut(rut);
    await this.d.limiter.attempt(`rut:${normalized}`, address);
    const account = await readModel.workerByRut(this.d.db.pool, normalized);
    if (!account) {
      await this.d.commands.unknownAccountFailure({ actor: SYSTEM, correlationId }, normalized, address);
      const decoy = await this.d.codes.issue({ accountId: null, accountKind: 'profile' });
      return { challengeId: decoy.challengeId, expiresAt: decoy.expiresAt };
    }
    const attempt = { accountId: account.profileId, accountKind: 'profile' as const, address, now: new Date() };
    const challenge = await this.d.codes.issue({ accountId: account.profileId, accountKind: 'profile' });
    const decided = await this.d.commands.onWorker({ actor: accountActor(account.profileId, 'profile'), correlationId }, account.profileId, (s) =>
      isLocked(s.lock, attempt.now) ? decideLockedAttempt(s.lock, attempt) : decideCodeSent({ ...attempt, challengeId: challenge.challengeId }),
    );
    const lockedFor = attemptOutcome(decided.events) === 'locked' ? lockSecondsLeft(decided.state.lock, attempt.now) : 0;
    if (lockedFor > 0) throw lockedError(lockedFor);
    await this.d.sender.send({ accountId: account.profileId, accountKind: 'profile', email: null, rut: account.rut }, challenge.code, challenge.expiresAt);
    return { challengeId: challenge.challengeId, expiresAt: challenge.expiresAt };
  }

  /** Second factor: the one-time code. Success starts a session and returns tokens. */
  async verifyCode(correlationId: string, address: string | null, challengeId: unknown, code: unknown): Promise<AuthTokens> {
    if (typeof challengeId !== 'string' || !input.isId(challengeId) || typeof code !== 'string') {
      throw new UnauthenticatedError(CODE_GONE);
    }
    await this.d.limiter.attempt(null, address);
    const result = await this.d.codes.check(challengeId, code.trim());
    if (!result.ok) {
      let lockedFor = 0;
      if (result.reason !== 'EXPIRED' && result.challenge.accountId) {
        const { accountId, accountKind } = result.challenge;
        const attempt = { accountId, accountKind, address, now: new Date() };
        // The attempt limit already held in the store; a failure that cannot be recorded (a
        // storm of concurrent guesses on one stream) must not change the answer.
        const decided = await this.d.commands
          .onAccount({ actor: accountActor(accountId, accountKind), correlationId }, accountKind, accountId, (s) =>
            decideFailure(s.lock, { ...attempt, reason: result.reason }, this.d.lockout),
          )
          .catch((err) => void this.d.log.warn({ err, accountId }, 'could not record a failed code'));
        if (decided) lockedFor = lockSecondsLeft(decided.state.lock, attempt.now);
      }
      if (result.reason !== 'WRONG_CODE') throw new UnauthenticatedError(CODE_GONE);
      if (lockedFor > 0) {
        // Locked now: the right code would be refused too, so the challenge goes.
        await this.d.codes.cancel(challengeId);
        throw lockedError(lockedFor);
      }
      throw wrongCode(result.attemptsLeft);
    }
    const { accountId, accountKind } = result.challenge as { accountId: string; accountKind: AccountKind };
    const identity = await this.identityOf(accountKind, accountId);
    const { session, refreshToken } = await this.d.sessions.create(identity);
    const attempt = { accountId, accountKind, address, now: new Date() };
    try {
      await this.d.commands.onAccount({ actor: accountActor(accountId, accountKind), correlationId }, accountKind, accountId, (s) => {
        // Locked while the code was out (e.g. failures elsewhere): no session.
        if (isLocked(s.lock, attempt.now)) throw lockedError(lockSecondsLeft(s.lock, attempt.now));
        return decideSuccess({ ...attempt, sessionId: session.sid, role: identity.role });
      });
    } catch (err) {
      await this.d.sessions.revoke(session.sid, accountId);
      throw err;
    }
    return this.tokensFor({ ...identity, sessionId: session.sid }, refreshToken);
  }

  /** The identity an account logs in as, from the read tables. */
  private async identityOf(kind: AccountKind, accountId: string): Promise<Omit<Identity, 'sessionId'>> {
    if (kind === 'internal-user') {
      const [user] = await readModel.users(this.d.db.pool, [accountId]);
      if (!user) throw new UnauthenticatedError(CODE_GONE);
      return { userId: user.id, kind, role: user.role, companyId: user.companyId, profileId: null };
    }
    const [worker] = await readModel.workers(this.d.db.pool, [accountId]);
    if (!worker) throw new UnauthenticatedError(CODE_GONE);
    return { userId: worker.profileId, kind, role: 'WORKER', companyId: worker.companyId, profileId: worker.profileId };
  }

  private async tokensFor(identity: Identity, refreshToken: string): Promise<AuthTokens> {
    const access = await this.d.tokens.sign(identity);
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresAt: access.expiresAt,
      refreshToken,
      refreshExpiresAt: new Date(Date.now() + this.d.sessions.ttlMs),
      identity,
    };
  }

  /** Rotates a refresh token; a reused one revokes its session (and says so in an event). */
  async refresh(correlationId: string, refreshToken: unknown): Promise<AuthTokens> {
    if (typeof refreshToken !== 'string' || refreshToken.length > 200) throw new UnauthenticatedError('The refresh token is not valid');
    const outcome = await this.d.sessions.refresh(refreshToken);
    if (outcome.kind === 'invalid') throw new UnauthenticatedError('The refresh token is not valid or its session ended');
    const { identity, sid } = outcome.session;
    if (outcome.kind === 'reused') {
      await this.revoke(correlationId, identity.userId, identity.kind, [sid], 'REFRESH_TOKEN_REUSED', { id: identity.userId, kind: identity.kind });
      throw new UnauthenticatedError('This refresh token was already used; the session is revoked, log in again');
    }
    return this.tokensFor({ ...identity, sessionId: sid }, outcome.refreshToken);
  }

  /** Ends sessions now (the gateway refuses their tokens at once) and records why. */
  async revoke(
    correlationId: string,
    accountId: string,
    kind: AccountKind,
    sids: string[] | 'all',
    reason: 'LOGOUT' | 'LOGOUT_EVERYWHERE' | 'REFRESH_TOKEN_REUSED' | 'ROLE_CHANGED',
    actor: CommandContext['actor'],
  ): Promise<string[]> {
    let revoked: string[];
    if (sids === 'all') revoked = await this.d.sessions.revokeAll(accountId);
    else {
      revoked = [];
      for (const sid of sids) if (await this.d.sessions.revoke(sid, accountId)) revoked.push(sid);
    }
    if (revoked.length > 0 && input.isId(accountId)) {
      await this.d.commands.onAccount({ actor, correlationId }, kind, accountId, () => decideRevoked(accountId, kind, revoked, reason));
    }
    return revoked;
  }

  /** Logs out the session a refresh token belongs to (any of its generations). */
  async sessionOfRefreshToken(refreshToken: unknown) {
    if (typeof refreshToken !== 'string' || refreshToken.length > 200) return null;
    return this.d.sessions.ofRefreshToken(refreshToken);
  }
}

function lockedError(seconds: number): UnauthenticatedError {
  const error = new UnauthenticatedError(`Too many failed attempts: the account is locked; try again in ${Math.ceil(seconds / 60)} min`);
  Object.assign(error.extensions, { locked: true, retryAfterSeconds: seconds });
  return error;
}

/** A wrong code while the challenge still takes others: says how many. */
function wrongCode(attemptsLeft: number): UnauthenticatedError {
  const error = new UnauthenticatedError(`The code is wrong; ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left`);
  Object.assign(error.extensions, { attemptsLeft });
  return error;
}
