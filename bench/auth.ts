/**
 * Auth benchmark: the same query through the gateway, signed in with a real CIAM access
 * token (JWT verified against the JWKS, session checked in Redis, identity signed for the
 * subgraph) versus the development identity header (no token to verify, no session to
 * check). Runs alternate so machine noise falls on both; the overhead printed is
 * 1 - (token requests/s / header requests/s). Target: under 10%.
 *
 * Uses the local Redis (as production would) for sessions and rate-limit counters; the
 * benchmark's session is ended at the end, rate-limit keys expire within the window.
 *
 *   npm run bench:auth
 *   BENCH_DURATION_S=10 BENCH_ROUNDS=3 npm run bench:auth
 */
import { createTestDatabase } from '../platform/testing/postgres.ts';
import { runBench } from './support/lifecycle.ts';
import { createBenchDatabase } from './support/database.ts';
import { runLoad, type LoadResult } from './support/load.ts';
import { fixed, int, printTable } from './support/report.ts';
import { seedContext, rutFor } from './support/seed.ts';
import { startService } from './support/services.ts';

const env = process.env;
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 16);
const WARMUP_S = Number(env.BENCH_WARMUP_S ?? 3);
const DURATION_S = Number(env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const REDIS_URL = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNLIMITED = '1000000000';
const QUERY = `{ companies(first: 5) { nodes { id name taxRut projects(first: 5) { nodes { faenaCode status } } } } }`;

async function post(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors).slice(0, 400)}`);
  return body.data;
}

await runBench('bench:auth', 10 * 60_000, async (scope) => {
  const bench = await createBenchDatabase(scope, 'bench_auth');
  const ctx = seedContext();
  for (let c = 0; c < 5; c++) {
    const companyId = await bench.commands.registerCompany(ctx, { name: `Auth Bench ${c}`, taxRut: rutFor(90_000_000 + c) });
    for (let p = 0; p < 5; p++) {
      await bench.commands.createProject(ctx, { companyId, name: `P${p}`, faenaCode: `AB${c}${p}`, startsOn: '2026-01-01' });
    }
  }
  const ciamDatabase = await createTestDatabase('bench_auth_ciam', [], 1);
  scope.defer(() => ciamDatabase.drop());
  await ciamDatabase.db.end();

  const shared = { ANGELIS_REDIS_URL: REDIS_URL };
  const workforce = await startService(scope, 'workforce', { env: { ...bench.env, ...shared, ANGELIS_WORKFORCE_PORT: '0' } });
  // Info level: the development code sender writes the one-time code to the log, where we read it.
  const ciam = await startService(scope, 'ciam', {
    env: { ...bench.env, ...shared, ANGELIS_LOG_LEVEL: 'info', ANGELIS_CIAM_DB_NAME: ciamDatabase.settings.database, ANGELIS_CIAM_PORT: '0' },
  });
  const gateway = await startService(scope, 'gateway', {
    env: {
      ...shared,
      ANGELIS_GATEWAY_PORT: '0',
      ANGELIS_WORKFORCE_URL: workforce.url,
      ANGELIS_CIAM_URL: ciam.url,
      ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: UNLIMITED,
      ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: UNLIMITED,
    },
  });

  // A real admin: invited (by the development admin), password set, password + code.
  const email = `bench-${Date.now()}@angelis.test`;
  const dev = { 'x-angelis-dev-user': 'bench-admin@angelis.test' };
  const invite = await post(gateway.url, `mutation($e: String!) { inviteUser(input: {email: $e, name: "Bench", role: ADMIN}) { inviteToken } }`, { e: email }, dev);
  await post(gateway.url, `mutation($t: String!) { setPassword(inviteToken: $t, password: "bench password 123") { id } }`, { t: invite.inviteUser.inviteToken });
  const challenge = await post(gateway.url, `mutation($e: String!) { login(email: $e, password: "bench password 123") { challengeId } }`, { e: email });
  await new Promise((r) => setTimeout(r, 300));
  const codeLine = ciam.output().split('\n').reverse().find((l) => l.includes('one-time login code') && l.includes(email));
  if (!codeLine) throw new Error(`no one-time code in the ciam log:\n${ciam.output()}`);
  const code = (JSON.parse(codeLine) as { code: string }).code;
  const tokens = await post(gateway.url, `mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken } }`, {
    c: challenge.login.challengeId,
    code,
  });
  const bearer = { authorization: `Bearer ${tokens.verifyLoginCode.accessToken}` };
  scope.defer(() => post(gateway.url, 'mutation { logout }', {}, bearer).then(() => undefined, () => undefined));

  const modes = { 'token (JWT + session)': bearer, 'dev header (no token)': dev } as const;
  for (const headers of Object.values(modes)) {
    const data = await post(gateway.url, QUERY, {}, headers);
    if (data.companies.nodes.length !== 5) throw new Error('the query did not read 5 companies');
  }

  const results: Record<string, LoadResult[]> = { 'token (JWT + session)': [], 'dev header (no token)': [] };
  const body = JSON.stringify({ query: QUERY });
  console.log(`${ROUNDS} rounds of ${DURATION_S}s per mode (after ${WARMUP_S}s warm-up each), ${CONNECTIONS} connections, alternating`);
  // The whole stack warms up (JIT, pools, caches) on both modes before anything is measured.
  for (const headers of Object.values(modes)) await runLoad({ url: gateway.url, connections: CONNECTIONS, durationS: 2 * WARMUP_S, headers, body: () => body });
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which mode goes first, so a slow start or a noisy neighbour favours neither.
    const order = Object.entries(modes);
    if (round % 2 === 1) order.reverse();
    for (const [label, headers] of order) {
      await runLoad({ url: gateway.url, connections: CONNECTIONS, durationS: WARMUP_S, headers, body: () => body });
      const r = await runLoad({ url: gateway.url, connections: CONNECTIONS, durationS: DURATION_S, headers, body: () => body });
      if (r.errors > 0) throw new Error(`${label}: ${r.errors} errors: ${r.samples.join(' | ')}`);
      results[label].push(r);
      console.log(`  round ${round + 1} ${label}: ${fixed((r.ok / r.elapsedMs) * 1000)} req/s, p50 ${fixed(r.p50)} ms, p99 ${fixed(r.p99)} ms`);
    }
  }

  const summary = (rs: LoadResult[]) => {
    const ok = rs.reduce((n, r) => n + r.ok, 0);
    const ms = rs.reduce((n, r) => n + r.elapsedMs, 0);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { rps: (ok / ms) * 1000, p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), requests: ok };
  };
  const on = summary(results['token (JWT + session)']);
  const off = summary(results['dev header (no token)']);
  printTable('bench:auth — gateway, same query, JWT verification on vs off', ['mode', 'req/s', 'p50 ms', 'p99 ms', 'requests'], [
    ['token (JWT + session)', fixed(on.rps), fixed(on.p50), fixed(on.p99), int(on.requests)],
    ['dev header (no token)', fixed(off.rps), fixed(off.p50), fixed(off.p99), int(off.requests)],
  ]);
  const overhead = (1 - on.rps / off.rps) * 100;
  console.log(`\nverification overhead: ${fixed(overhead)}% of throughput (target < 10%)`);
});
