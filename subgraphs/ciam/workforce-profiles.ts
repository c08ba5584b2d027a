import { request } from 'undici';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../../platform/auth/identity.ts';
import { SourceUnavailableError } from '../../platform/errors.ts';
import { CORRELATION_HEADER } from '../../platform/graphql/context.ts';
import type { Logger } from '../../platform/logger.ts';

/**
 * CIAM's window on Workforce, which owns profiles. Domains meet only through the graph:
 * CIAM asks Workforce's GraphQL endpoint with the caller's identity, signed as the
 * gateway signs it, so Workforce's own visibility rules decide what the caller sees.
 */

/** A profile as the caller sees it in Workforce. */
export interface VisibleProfile {
  rut: string;
  /** Companies the profile works for now, among those the caller may see. */
  activeCompanyIds: string[];
}

/** Looks a profile up as `caller`; null when it does not exist or the caller may not see it. */
export type ProfileLookup = (caller: Identity, profileId: string, correlationId: string) => Promise<VisibleProfile | null>;

const PROFILE_QUERY = 'query($id: ID!) { profile(id: $id) { rut companies(status: ACTIVE) { company { id } } } }';

// Workforce answers "not visible" as null, or as one of these for some callers: all mean "not for you".
const HIDDEN = new Set(['NOT_FOUND', 'FORBIDDEN']);

interface Answer {
  data?: { profile: { rut: string; companies: { company: { id: string } }[] } | null } | null;
  errors?: { message?: string; extensions?: { code?: unknown } }[];
}

/** The Workforce client: POSTs to `url` (its /graphql), giving up after `timeoutMs`. */
export function workforceProfiles(o: { url: string; identitySecret: string; log: Logger; timeoutMs?: number }): ProfileLookup {
  const { url, identitySecret, log, timeoutMs = 5_000 } = o;
  const unavailable = (correlationId: string, cause: unknown) => {
    log.warn({ err: cause, url, correlationId }, 'workforce profile lookup failed');
    return new SourceUnavailableError('Workforce', 'Workforce cannot be asked about the profile right now; nothing was changed, try again');
  };
  return async (caller, profileId, correlationId) => {
    let status: number;
    let answer: Answer;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [IDENTITY_HEADER]: signIdentity(caller, identitySecret),
          [CORRELATION_HEADER]: correlationId,
        },
        body: JSON.stringify({ query: PROFILE_QUERY, variables: { id: profileId } }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      answer = (await res.body.json()) as Answer;
    } catch (err) {
      throw unavailable(correlationId, err);
    }
    const codes = (answer.errors ?? []).map((e) => e.extensions?.code);
    if (codes.length > 0 && codes.every((c) => HIDDEN.has(c as string))) return null;
    const profile = answer.data?.profile;
    if (status !== 200 || codes.length > 0 || profile === undefined) {
      throw unavailable(correlationId, new Error(`Workforce answered ${status}: ${answer.errors?.[0]?.message ?? 'no profile field'}`));
    }
    if (profile === null) return null;
    return { rut: profile.rut, activeCompanyIds: profile.companies.map((c) => c.company.id) };
  };
}

