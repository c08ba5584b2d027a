import { request } from 'undici';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../auth/identity.ts';
import { SourceUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { CORRELATION_HEADER } from './context.ts';
import { uncacheableRead } from '../response-cache/reads.ts';

/** A GraphQL answer as another subgraph gave it. */
export interface SubgraphAnswer<T> {
  status: number;
  data?: T | null;
  errors?: { message?: string; path?: (string | number)[]; extensions?: { code?: unknown } }[];
}

/**
 * How one service asks another subgraph, through its GraphQL API and never its database:
 * as `caller` (signed exactly as the gateway signs identities), so the other side's own
 * rules decide what the caller sees. An unreachable subgraph, a timeout or an answer that
 * is not GraphQL is SOURCE_UNAVAILABLE naming it.
 */
export function subgraphClient(o: { name: string; url: string; identitySecret: string; log: Logger; timeoutMs?: number }) {
  const { name, url, identitySecret, log, timeoutMs = 5_000 } = o;
  return async function query<T>(caller: Identity, document: string, variables: Record<string, unknown>, correlationId: string): Promise<SubgraphAnswer<T>> {
    // What another subgraph answers carries no tags of this one's: an answer built on it is not cached.
    uncacheableRead(`asks ${name}`);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [IDENTITY_HEADER]: signIdentity(caller, identitySecret),
          [CORRELATION_HEADER]: correlationId,
        },
        body: JSON.stringify({ query: document, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.body.json()) as Omit<SubgraphAnswer<T>, 'status'>;
      return { status: res.statusCode, ...body };
    } catch (err) {
      log.warn({ err, subgraph: name, url, correlationId }, 'subgraph call failed');
      throw new SourceUnavailableError(name, `${name} cannot be reached right now; try again`);
    }
  };
}
