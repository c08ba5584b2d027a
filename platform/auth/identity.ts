import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../errors.ts';

/**
 * Who a request acts for, as every service sees it. CIAM issues it as an access token
 * (JWT); the gateway verifies that token and passes the identity to subgraphs signed with
 * ANGELIS_IDENTITY_SECRET, so a subgraph trusts only what came through the gateway.
 */

export type Role = 'ADMIN' | 'MANAGER' | 'WORKER';

export const PERMISSIONS: Record<Role, readonly string[]> = {
  ADMIN: ['companies:read', 'companies:write', 'projects:read', 'projects:write', 'profiles:read', 'profiles:write', 'licenses:read', 'licenses:write', 'subscriptions:read', 'subscriptions:write', 'users:read', 'users:write', 'audit:read'],
  MANAGER: ['companies:read', 'projects:read', 'projects:write', 'profiles:read', 'profiles:write', 'licenses:read', 'licenses:write', 'subscriptions:read', 'users:read', 'audit:read'],
  WORKER: ['profiles:read:own', 'licenses:read:own', 'projects:read:own'],
};

export interface Identity {
  /** The internal user's id, or for a worker the profile's id. */
  userId: string;
  kind: 'internal-user' | 'profile';
  role: Role;
  /** MANAGER: their company; WORKER: the company they log in for (may be null); ADMIN: null. */
  companyId: string | null;
  /** WORKER only: their profile. */
  profileId: string | null;
  /** The CIAM session the token belongs to (revoked sessions are refused at the gateway). */
  sessionId: string;
  /** A development identity from headers (never in production). */
  dev?: boolean;
}

/**
 * A service's identity: how one part of the platform calls another as itself, never as a
 * person (the gateway reading the whole notification feed, a domain relaying its events).
 * An ADMIN whose user id is `system:<name>`: CIAM never issues such an id (its users' ids
 * are UUIDs), and development headers may not name one.
 */
export const SERVICE_USER_PREFIX = 'system:';

export function serviceIdentity(name: string): Identity {
  return { userId: `system:${name}`, kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 'system' };
}

/** A signed service identity: never a development one (development headers cannot name `system:` users either). */
export function isServiceIdentity(identity: Identity, name?: string): boolean {
  return (
    identity.dev !== true &&
    identity.role === 'ADMIN' &&
    identity.kind === 'internal-user' &&
    identity.companyId === null &&
    identity.profileId === null &&
    (name === undefined ? identity.userId.startsWith('system:') : identity.userId === `system:${name}`)
  );
}

/** The gateway's notification delivery: reads every notification with its whole audience. */
export const NOTIFICATION_DELIVERY = 'notifications';

/** The access token's claims, as CIAM signs them. */
export interface AccessTokenClaims {
  sub: string;
  kind: Identity['kind'];
  role: Role;
  cid: string | null;
  pid: string | null;
  sid: string;
  dev?: true;
}

export function claimsOf(identity: Identity): AccessTokenClaims {
  const claims: AccessTokenClaims = { sub: identity.userId, kind: identity.kind, role: identity.role, cid: identity.companyId, pid: identity.profileId, sid: identity.sessionId };
  if (identity.dev) claims.dev = true;
  return claims;
}

const ROLES = new Set<Role>(['ADMIN', 'MANAGER', 'WORKER']);

/** The identity in verified claims, or UNAUTHENTICATED when they are not ours. */
export function identityFromClaims(c: Record<string, unknown>): Identity {
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null);
  const role = c.role as Role;
  if (!str(c.sub) || !str(c.sid) || !ROLES.has(role) || (c.kind !== 'internal-user' && c.kind !== 'profile')) {
    throw new UnauthenticatedError('The access token is not valid');
  }
  const identity: Identity = { userId: c.sub as string, kind: c.kind, role, companyId: str(c.cid), profileId: str(c.pid), sessionId: c.sid as string };
  if (c.dev === true) identity.dev = true;
  return identity;
}

const DEVELOPMENT_IDENTITY_SECRET = 'angelis-development-only-identity-secret';

/** The gateway-subgraph signing secret (production requires one; see config.ts). */
export function identitySecret(config: { ANGELIS_IDENTITY_SECRET?: string }): string {
  return config.ANGELIS_IDENTITY_SECRET ?? DEVELOPMENT_IDENTITY_SECRET;
}

export const IDENTITY_HEADER = 'x-angelis-identity';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (payload: string, secret: string) => createHmac('sha256', secret).update(payload).digest();

/**
 * Values computed in the current second of the clock, by key: forgotten when the second
 * changes (or past 10,000 of them). Signed headers carry a timestamp of one-second
 * resolution, and every subgraph request of one caller in a second carries the same one:
 * the gateway signs it, and a subgraph checks its signature, once per second.
 */
function perSecond<V>(): (second: number, key: string, compute: () => V) => V {
  let current = -1;
  const values = new Map<string, V>();
  return (second, key, compute) => {
    if (second !== current || values.size >= 10_000) {
      current = second;
      values.clear();
    }
    let value = values.get(key);
    if (value === undefined) {
      value = compute();
      values.set(key, value);
    }
    return value;
  };
}
const signed = perSecond<string>();
const verified = perSecond<true>();

/** `claims` and a timestamp, HMAC-signed with the gateway-subgraph secret, as one header value. */
export function signClaims(claims: object, secret: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const payload = b64(JSON.stringify({ ...claims, iat }));
  return signed(iat, `${secret}\u0000${payload}`, () => `${payload}.${b64(mac(payload, secret))}`);
}

/**
 * The claims of a `signClaims` header: the signature checked, and at most `maxAgeS` old
 * (a captured header cannot be replayed for long). UNAUTHENTICATED naming `what` otherwise.
 */
export function verifySignedClaims(header: string, secret: string, what: string, now = Date.now(), maxAgeS = 60): Record<string, unknown> {
  const [payload, signature, extra] = header.split('.');
  const second = Math.floor(now / 1000);
  // A header whose signature checked out this second (the same caller's next request) is not
  // checked again (a bad one throws and is not remembered); its age still is, below.
  verified(second, `${secret}\u0000${header}`, () => {
    const given = Buffer.from(signature ?? '', 'base64url');
    const expected = mac(payload ?? '', secret);
    if (extra !== undefined || !payload || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthenticatedError(`The ${what} was not signed by the gateway`);
    }
    return true;
  });
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const age = second - Number(claims.iat);
  if (!(age >= -5 && age <= maxAgeS)) throw new UnauthenticatedError(`The signed ${what} has expired`);
  return claims;
}

/** The header value the gateway sends: the identity and a timestamp, HMAC-signed. */
export function signIdentity(identity: Identity, secret: string, now = Date.now()): string {
  return signClaims(claimsOf(identity), secret, now);
}

/** Verifies a signed identity header (see verifySignedClaims). */
export function verifyIdentity(header: string, secret: string, now = Date.now(), maxAgeS = 60): Identity {
  return identityFromClaims(verifySignedClaims(header, secret, 'identity', now, maxAgeS));
}
