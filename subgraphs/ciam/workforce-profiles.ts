import type { Identity } from '../../platform/auth/identity.ts';
import { SourceUnavailableError } from '../../platform/errors.ts';
import { subgraphClient, type SubgraphAnswer } from '../../platform/graphql/subgraph-client.ts';
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

type Answer = SubgraphAnswer<{ profile: { rut: string; companies: { company: { id: string } }[] } | null }>;

/** The Workforce client: asks `url` (its /graphql), giving up after `timeoutMs`. */
export function workforceProfiles(o: { url: string | null; identitySecret: string; log: Logger; timeoutMs?: number }): ProfileLookup {
  const unavailable = () => new SourceUnavailableError('Workforce', 'Workforce cannot be asked about the profile right now; nothing was changed, try again');
  if (!o.url) {
    o.log.warn('ANGELIS_WORKFORCE_URL is unset: worker logins cannot be enabled');
    return async () => {
      throw unavailable();
    };
  }
  const ask = subgraphClient({ name: 'workforce', url: o.url, identitySecret: o.identitySecret, log: o.log, timeoutMs: o.timeoutMs });
  return async (caller, profileId, correlationId) => {
    let answer: Answer;
    try {
      answer = await ask<NonNullable<Answer['data']>>(caller, PROFILE_QUERY, { id: profileId }, correlationId);
    } catch {
      throw unavailable();
    }
    const codes = (answer.errors ?? []).map((e) => e.extensions?.code);
    if (codes.length > 0 && codes.every((c) => HIDDEN.has(c as string))) return null;
    const profile = answer.data?.profile;
    if (answer.status !== 200 || codes.length > 0 || profile === undefined) {
      o.log.warn({ status: answer.status, error: answer.errors?.[0]?.message, correlationId }, 'workforce profile lookup failed');
      throw unavailable();
    }
    if (profile === null) return null;
    return { rut: profile.rut, activeCompanyIds: profile.companies.map((c) => c.company.id) };
  };
}
