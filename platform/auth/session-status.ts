import { createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { KeyValueStore } from '../redis/store.ts';

/**
 * Whether a CIAM session is live, for the gateway: logout must take effect at once, not
 * when the access token expires. With Redis the gateway reads the session key itself;
 * with in-process stand-ins (one `npm start`, no shared store) it asks CIAM over this
 * internal route, signed with ANGELIS_IDENTITY_SECRET.
 */

export type SessionCheck = (sessionId: string) => Promise<boolean>;

export const SESSION_STATUS_PATH = '/internal/session-status';
const SIGNATURE_HEADER = 'x-angelis-signature';

/** The Redis key of a session (CIAM writes it, deletes it on revocation). */
export const sessionKey = (sessionId: string, prefix = 'angelis:') => `${prefix}session:${sessionId}`;

const sign = (sid: string, secret: string) => createHmac('sha256', secret).update(`session-status:${sid}`).digest();

/** Reads the session key in the shared store. */
export function storeSessionCheck(store: KeyValueStore, prefix?: string): SessionCheck {
  return (sid) => store.exists(sessionKey(sid, prefix));
}

/** Asks CIAM (`ciamGraphqlUrl` is its /graphql URL). */
export function remoteSessionCheck(ciamGraphqlUrl: string, secret: string): SessionCheck {
  const base = new URL(SESSION_STATUS_PATH, ciamGraphqlUrl);
  return async (sid) => {
    const url = new URL(base);
    url.searchParams.set('sid', sid);
    const res = await fetch(url, { headers: { [SIGNATURE_HEADER]: sign(sid, secret).toString('base64url') }, signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`CIAM session status answered ${res.status}`);
    return ((await res.json()) as { active: boolean }).active === true;
  };
}

/** CIAM's side of the route: answers only requests signed with the shared secret. */
export function sessionStatusRoute(isActive: SessionCheck, secret: string) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const sid = new URL(req.url ?? '/', 'http://x').searchParams.get('sid') ?? '';
    const given = Buffer.from(String(req.headers[SIGNATURE_HEADER] ?? ''), 'base64url');
    const expected = sign(sid, secret);
    if (!sid || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(403, { 'content-type': 'application/json' });
      return void res.end('{"error":"forbidden"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ active: await isActive(sid) }));
  };
}
