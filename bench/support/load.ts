import autocannon from 'autocannon';
import { BENCH_USER } from './seed.ts';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Bounded by time... */
  durationS?: number;
  /** ...or by a number of requests (at most 10 minutes). */
  amount?: number;
  /** The JSON body of the next request; called once per request. With `meta`, what `check` gets back for its response. */
  body: () => string | { text: string; meta: unknown };
  /** Request headers besides content-type; default: the development identity of BENCH_USER. */
  headers?: Record<string, string>;
  /** Checks a 200 response; return an error text to count it as failed. Default: a GraphQL `errors` entry fails. */
  check?: (body: string, meta?: unknown) => string | undefined;
}

export interface LoadResult {
  elapsedMs: number;
  /** Requests written (some may still be in flight on the server when the run ends). */
  sent: number;
  /** 200 responses that passed the check. */
  ok: number;
  /** Non-200 responses, GraphQL errors, failed checks, socket errors and timeouts. */
  errors: number;
  /** The first few distinct error texts. */
  samples: string[];
  /** Latency percentiles of passing requests, in ms (measured here with performance.now()). */
  p50: number;
  p99: number;
  max: number;
}

const hasGraphQLErrors = (body: string) => (body.includes('"errors"') ? body.slice(0, 300) : undefined);

/**
 * Drives `connections` keep-alive HTTP/1.1 connections (autocannon, one request in flight
 * each) at a GraphQL endpoint for a bounded time, as the dev user.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const check = o.check ?? hasGraphQLErrors;
  const latencies: number[] = [];
  const samples = new Set<string>();
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const fail = (text: string) => {
    failed++;
    if (samples.size < 3) samples.add(text);
  };
  const started = performance.now();
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount, duration: 600 } : { duration: o.durationS ?? 10 }),
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(o.headers ?? { 'x-angelis-dev-user': BENCH_USER }) },
    requests: [
      {
        // Called right before the request is written; the context lives for one request.
        setupRequest: (req, ctx) => {
          const next = o.body();
          ctx.t0 = performance.now();
          sent++;
          if (typeof next === 'string') return { ...req, body: next };
          ctx.meta = next.meta;
          return { ...req, body: next.text };
        },
        onResponse: (status, body, ctx) => {
          const ms = performance.now() - (ctx.t0 as number);
          if (status !== 200) return fail(`HTTP ${status}: ${body.slice(0, 300)}`);
          const problem = check(body, ctx.meta);
          if (problem) return fail(problem);
          ok++;
          latencies.push(ms);
        },
      },
    ],
  });
  const elapsedMs = performance.now() - started;
  if (result.errors + result.timeouts > 0) {
    failed += result.errors + result.timeouts;
    samples.add(`${result.errors} socket errors, ${result.timeouts} timeouts`);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
  return { elapsedMs, sent, ok, errors: failed, samples: [...samples], p50: pct(50), p99: pct(99), max: latencies.at(-1) ?? NaN };
}

/** One GraphQL request as the dev user; throws on HTTP or GraphQL errors. */
export async function graphql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-angelis-dev-user': BENCH_USER },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!res.ok || body.errors?.length) throw new Error(`GraphQL request failed (${res.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.data as T;
}
