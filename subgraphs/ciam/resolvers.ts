import type { Resolvers } from './generated/resolver-types.ts';
import { PERMISSIONS, type Identity } from '../../platform/auth/identity.ts';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../../platform/errors.ts';
import * as input from '../../platform/domain/input.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import { actorOf, requireActor, requireIdentity, type RequestContext } from '../../platform/graphql/context.ts';
import { auditEntryResolvers, auditTrailPage } from '../../platform/graphql/audit-trail.ts';
import { toConnection, toPage } from '../../platform/graphql/pagination.ts';
import { DateTimeScalar, JSONScalar } from '../../platform/graphql/scalars.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import type { Authentication, AuthTokens } from './authentication.ts';
import { canManageCompany, listScope, requireAdmin, seesUserDetails } from './authorization.ts';
import type { CiamCommands } from './commands.ts';
import { decideInternalUser } from './domain/internal-user.ts';
import { workerLoginTerms } from './domain/worker-account.ts';
import type { ProfileLookup } from './workforce-profiles.ts';
import { normalizeRut } from '../../platform/domain/rut.ts';
import type { CiamLoaders } from './loaders.ts';
import type { KeyRotation } from './subgraph.ts';
import { escapeLike } from '../../platform/postgres/like.ts';
import { readModel, type InternalUserRow, type WorkerAccountRow } from './store/read-model.ts';
import { uncacheableRead } from '../../platform/response-cache/reads.ts';

/** What CIAM resolvers get: the platform context plus the caller's identity and this subgraph's parts. */
export interface CiamContext extends RequestContext {
  /** For login rate limits. */
  clientAddress: string | null;
  db: Db;
  loaders: CiamLoaders;
  commands: CiamCommands;
  auth: Authentication;
  keys: KeyRotation;
  /** Workforce's profile, as the caller sees it. */
  workforceProfile: ProfileLookup;
}

type Ctx = CiamContext;

function commandContext(ctx: Ctx) {
  return { actor: requireActor(ctx), correlationId: ctx.correlationId };
}

async function freshUser(ctx: Ctx, id: string): Promise<InternalUserRow> {
  ctx.loaders.user.clear(id);
  const row = await ctx.loaders.user.load(id);
  if (!row) throw new NotFoundError('InternalUser', id);
  return row;
}

/** A user the caller may see: ADMIN all, MANAGER their company and themselves, anyone else themselves. */
function visibleUser(ctx: Ctx, row: InternalUserRow | null): InternalUserRow | null {
  return row && seesUserDetails(ctx.identity, row) ? row : null;
}

function visibleWorker(ctx: Ctx, row: WorkerAccountRow | null): WorkerAccountRow | null {
  const id = ctx.identity;
  if (!row || !id) return null;
  return canManageCompany(id, row.companyId) || (id.kind === 'profile' && id.profileId === row.profileId) ? row : null;
}

/** A lock still in force, or null. One in force ends by time alone: the answer is not cached. */
function lockInForce(until: Date | null): Date | null {
  if (!until || until <= new Date()) return null;
  uncacheableRead('a lock in force ends by time');
  return until;
}

function me(identity: Identity) {
  return identity;
}

function tokens(t: AuthTokens) {
  return { ...t, me: t.identity };
}


export const resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,

  Query: {
    me: (_, _a, ctx) => me(requireIdentity(ctx.identity)),
    internalUser: async (_, a, ctx) => {
      requireIdentity(ctx.identity);
      return visibleUser(ctx, await ctx.loaders.user.load(input.id(a.id, 'id')));
    },
    internalUsers: async (_, a, ctx) => {
      const companyId = listScope(ctx.identity, a.companyId == null ? null : input.id(a.companyId, 'companyId'));
      const search = input.optionalText(a.search, 'search', 100);
      const page = toPage(a);
      return toConnection(await readModel.listUsers(ctx.db.pool, page, companyId, search === null ? null : escapeLike(search.toLowerCase())), page);
    },
    workerAccount: async (_, a, ctx) => {
      requireIdentity(ctx.identity);
      return visibleWorker(ctx, await ctx.loaders.worker.load(input.id(a.profileId, 'profileId')));
    },
    workerAccounts: async (_, a, ctx) => {
      const companyId = listScope(ctx.identity, a.companyId == null ? null : input.id(a.companyId, 'companyId'));
      const page = toPage(a);
      return toConnection(await readModel.listWorkers(ctx.db.pool, page, companyId), page);
    },
  },

  Me: {
    kind: (i) => (i.kind === 'internal-user' ? 'INTERNAL_USER' : 'PROFILE'),
    company: (i) => (i.companyId ? { id: i.companyId } : null),
    profile: (i) => (i.profileId ? { id: i.profileId } : null),
    permissions: (i) => [...PERMISSIONS[i.role]],
    user: (i, _a, ctx) => (i.kind === 'internal-user' && input.isId(i.userId) ? ctx.loaders.user.load(i.userId) : null),
  },

  InternalUser: {
    // Other subgraphs reference users (Workforce's createdBy): name and role for any caller who is logged in.
    __resolveReference: (ref: { id: string }, ctx: Ctx) => {
      if (!ctx.identity) return null;
      return input.isId(ref.id) ? ctx.loaders.user.load(ref.id.toLowerCase()) : null;
    },
    company: (u) => (u.companyId ? { id: u.companyId } : null),
    email: (u, _a, ctx) => (seesUserDetails(ctx.identity, u) ? u.email : null),
    status: (u, _a, ctx) => (seesUserDetails(ctx.identity, u) ? u.status : null),
    lockedUntil: (u, _a, ctx) => (seesUserDetails(ctx.identity, u) ? lockInForce(u.lockedUntil) : null),
    lastLoginAt: (u, _a, ctx) => (seesUserDetails(ctx.identity, u) ? u.lastLoginAt : null),
    // An account's trail is all about the account: readers who see its details see every entry.
    auditTrail: (u, a, ctx) => (seesUserDetails(ctx.identity, u) ? auditTrailPage(ctx.loaders.auditTrail, u.id, a, null) : null),
  },

  WorkerAccount: {
    profile: (w) => ({ id: w.profileId }),
    company: (w) => ({ id: w.companyId }),
    lockedUntil: (w) => lockInForce(w.lockedUntil),
  },

  // Secrets stay out of the audit view.
  AuditEntry: auditEntryResolvers(({ passwordHash: _p, inviteTokenHash: _i, ...rest }) => rest),

  Mutation: {
    inviteUser: async (_, a, ctx) => {
      requireAdmin(ctx.identity);
      const invite = await ctx.auth.invite(commandContext(ctx), a.input);
      return { user: await freshUser(ctx, invite.userId), inviteToken: invite.inviteToken, inviteExpiresAt: invite.inviteExpiresAt };
    },
    setPassword: async (_, a, ctx) => freshUser(ctx, await ctx.auth.setPassword(ctx.correlationId, a.inviteToken, a.password)),
    login: (_, a, ctx) => ctx.auth.login(ctx.correlationId, ctx.clientAddress, a.email, a.password),
    requestWorkerCode: (_, a, ctx) => ctx.auth.requestWorkerCode(ctx.correlationId, ctx.clientAddress, a.rut),
    verifyLoginCode: async (_, a, ctx) =>
      tokens(await ctx.auth.verifyCode(ctx.correlationId, ctx.clientAddress, a.challengeId, a.code)),
    refreshTokens: async (_, a, ctx) => tokens(await ctx.auth.refresh(ctx.correlationId, a.refreshToken)),
    logout: async (_, a, ctx) => {
      if (a.refreshToken != null) {
        const session = await ctx.auth.sessionOfRefreshToken(a.refreshToken);
        if (!session) throw new UnauthenticatedError('The refresh token is not valid or its session ended');
        const who = session.identity;
        await ctx.auth.revoke(ctx.correlationId, who.userId, who.kind, [session.sid], 'LOGOUT', { id: who.userId, kind: who.kind });
        return true;
      }
      const id = requireIdentity(ctx.identity);
      const revoked = await ctx.auth.revoke(ctx.correlationId, id.userId, id.kind, [id.sessionId], 'LOGOUT', actorOf(id));
      return revoked.length > 0;
    },
    logoutEverywhere: async (_, a, ctx) => {
      const id = requireIdentity(ctx.identity);
      let target = { userId: id.userId, kind: id.kind };
      if (a.userId != null && input.id(a.userId, 'userId') !== id.userId) {
        requireAdmin(ctx.identity);
        const userId = input.id(a.userId, 'userId');
        const [user, worker] = await Promise.all([ctx.loaders.user.load(userId), ctx.loaders.worker.load(userId)]);
        if (!user && !worker) throw new NotFoundError('Account', userId);
        target = { userId, kind: user ? 'internal-user' : 'profile' };
      }
      return (await ctx.auth.revoke(ctx.correlationId, target.userId, target.kind, 'all', 'LOGOUT_EVERYWHERE', actorOf(id))).length;
    },
    changeRole: async (_, a, ctx) => {
      requireAdmin(ctx.identity);
      const userId = input.id(a.userId, 'userId');
      const { events } = await ctx.commands.onUser(commandContext(ctx), userId, (s) => decideInternalUser.changeRole(s, { userId, role: a.role, companyId: a.companyId }), a.expectedVersion);
      // Tokens carry the role: end the user's sessions so the new role applies at once.
      if (events.length > 0) await ctx.auth.revoke(ctx.correlationId, userId, 'internal-user', 'all', 'ROLE_CHANGED', commandContext(ctx).actor);
      return freshUser(ctx, userId);
    },
    enableWorkerLogin: async (_, a, ctx) => {
      const id = requireIdentity(ctx.identity);
      const profileId = input.id(a.profileId, 'profileId');
      const companyId = input.id(a.companyId, 'companyId');
      const givenRut = a.rut == null ? null : normalizeRut(a.rut);
      if (!canManageCompany(id, companyId)) throw new ForbiddenError('Only an ADMIN or this company\'s MANAGER may enable a worker login');
      // Workforce owns profiles: asked as the caller, it shows only a profile they may manage.
      const rut = workerLoginTerms(await ctx.workforceProfile(id, profileId, ctx.correlationId), { profileId, companyId, rut: givenRut });
      // After the lookup, so a profile the caller may not see is NOT_FOUND, not "has a login".
      const existing = await readModel.workers(ctx.db.pool, [profileId]);
      if (existing[0] && !canManageCompany(id, existing[0].companyId)) throw new ForbiddenError('This worker logs in for another company');
      await ctx.commands.enableWorkerLogin(commandContext(ctx), { profileId, rut, companyId });
      ctx.loaders.worker.clear(profileId);
      return ctx.loaders.worker.load(profileId);
    },
    rotateSigningKey: async (_, _a, ctx) => {
      requireAdmin(ctx.identity);
      const rotated = await ctx.keys.rotate(commandContext(ctx), true);
      return { rotated, publishedKeyIds: (await ctx.keys.jwks()).keys.flatMap((k) => (k.kid ? [k.kid] : [])) };
    },
  },
} satisfies Resolvers;
