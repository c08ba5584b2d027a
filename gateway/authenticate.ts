import type http from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { unauthenticatedRequest } from '../platform/errors.ts';
import { identityFromClaims, type Identity } from '../platform/auth/identity.ts';
import { devIdentityFromHeaders } from '../platform/graphql/context.ts';
import type { SessionCheck } from '../platform/auth/session-status.ts';


export interface AuthenticatorOptions {
  /** CIAM's JWKS, e.g. http://127.0.0.1:4002/.well-known/jwks.json; keys are cached and refetched on an unknown `kid`. */
  jwks: string | JWTVerifyGetKey;
  issuer: string;
  audience: string;
  nodeEnv: string;
  sessionActive: SessionCheck;
}


/**
 * The caller with the token checked, and `confirm`, which checks the session (a no-op for
 * development and anonymous callers). Nothing is answered before `confirm` resolves; it is
 * separate so the gateway can send the session check to Redis together with its other
 * commands (rate limits, cache lookup).
 */
export type Authenticator = (req: http.IncomingMessage) => Promise<{ identity: Identity | null; confirm: () => Promise<void> }>;

const CONFIRMED = () => Promise.resolve();

/**
 * The gateway's one way to know the caller: a `Bearer` access token signed by CIAM
 * (ES256/EdDSA only, right issuer and audience, not expired, session not revoked), else a
 * development identity outside production, else anonymous.
 */
export function createAuthenticator(o: AuthenticatorOptions): Authenticator {
  const keys = typeof o.jwks === 'string' ? createRemoteJWKSet(new URL(o.jwks), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 }) : o.jwks;
  // A token is immutable: once its signature and claims check out, remember the identity
  // until the token expires instead of re-running the signature check on every request.
  // Revocation does not depend on this: the session is checked on every request.
  const verified = new Map<string, { identity: Identity; expiresAtMs: number }>();
  const remember = (token: string, identity: Identity, exp: unknown) => {
    if (typeof exp !== 'number') return;
    if (verified.size >= 10_000) verified.delete(verified.keys().next().value as string);
    verified.set(token, { identity, expiresAtMs: exp * 1000 });
  };
  const verify = async (token: string): Promise<Identity> => {
    const known = verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAtMs) return known.identity;
      verified.delete(token);
      throw unauthenticatedRequest('The access token has expired; refresh it');
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: o.issuer, audience: o.audience, algorithms: ['ES256', 'EdDSA'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticatedRequest('The access token has expired; refresh it');
      throw unauthenticatedRequest('The access token is not valid');
    }
    let identity: Identity;
    try {
      identity = identityFromClaims(payload);
    } catch {
      throw unauthenticatedRequest('The access token is not valid');
    }
    remember(token, identity, payload.exp);
    return identity;
  };
  return async (req) => {
    const authorization = req.headers.authorization;
    if (!authorization) return { identity: devIdentityFromHeaders(req.headers, o.nodeEnv), confirm: CONFIRMED };
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization);
    if (!m) throw unauthenticatedRequest('Authorization must be "Bearer <access token>"');
    const identity = await verify(m[1]);
    return {
      identity,
      confirm: async () => {
        if (!(await o.sessionActive(identity.sessionId))) throw unauthenticatedRequest('The session has ended; sign in again');
      },
    };
  };
}
