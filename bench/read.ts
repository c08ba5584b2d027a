/**
 * Read benchmark: the nested read company -> projects -> assignments -> profiles ->
 * licences (100 assigned profiles) through the gateway, with 16 connections; the same
 * query straight to the subgraph for comparison. Workforce, CIAM (the gateway is ready
 * only when every subgraph answers) and the gateway each run as a child process; the
 * gateway's rate limits are raised so they never refuse (bench/support/stack.ts).
 *
 * Statements per request: the subgraph's pool counts every statement it sends
 * (platform/postgres/pool.ts); its process reports the counter over IPC
 * (bench/support/service-main.ts). Read once around a single request on an otherwise
 * idle stack, and around the whole timed run (divided by the requests sent).
 * pg_stat_statements is not used: it needs shared_preload_libraries, which the shared
 * server does not load.
 *
 *   npm run bench:read
 *   BENCH_DURATION_S=15 BENCH_READ_PROFILES=100 BENCH_LICENSES_PER_PROFILE=3 npm run bench:read
 *   npm run bench:read -- --against <commit> [--rounds 3]   # subgraph CPU per response: an older commit and this tree, alternately
 */
import { runBench } from './support/lifecycle.ts';
import { createBenchDatabase } from './support/database.ts';
import { graphql } from './support/load.ts';
import { describeCores, describeCpuMs, measurePhase, type PhaseResult } from './support/phase.ts';
import { fixed, int, printTable } from './support/report.ts';
import { NESTED_READ as QUERY, nestedReadCheck, seedNested, type NestedShape } from './support/nested.ts';
import { startBenchStack } from './support/stack.ts';
import { compareWithCommit } from './support/compare.ts';

const env = process.env;
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 16);
const WARMUP_S = Number(env.BENCH_WARMUP_S ?? 3);
const DURATION_S = Number(env.BENCH_DURATION_S ?? 15);
const PROFILES = Number(env.BENCH_READ_PROFILES ?? 100);
const PROJECTS = Number(env.BENCH_PROJECTS ?? 5);
const ASSIGNMENTS_PER_PROJECT = Number(env.BENCH_ASSIGNMENTS_PER_PROJECT ?? 2);
const LICENSES_PER_PROFILE = Number(env.BENCH_LICENSES_PER_PROFILE ?? 3);
const DIRECT = env.BENCH_DIRECT !== '0';

const args = process.argv.slice(2);
const against = args.includes('--against') ? args[args.indexOf('--against') + 1] : undefined;
if (against) {
  // Side by side: Workforce's CPU per nested read (called directly: no gateway in it) on an
  // older commit and on this tree, as responses per CPU-second (higher is better).
  await compareWithCommit({
    name: 'bench:read (nested read straight to Workforce)',
    script: 'bench/read.ts',
    against,
    rounds: args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3,
    env: { ...env, BENCH_DIRECT: '1' },
    figure: (output) => {
      const all = [...output.matchAll(/CPU ms per request: subgraph ([0-9.]+)/g)];
      const ms = Number(all.at(-1)?.[1]);
      return Number.isFinite(ms) && ms > 0 ? 1000 / ms : null;
    },
    unit: 'nested reads per Workforce CPU-second',
  });
  process.exit(0);
}

await runBench('bench:read', 10 * 60_000, async (scope) => {
  const shape: NestedShape = { companies: 1, profiles: PROFILES, projects: PROJECTS, assignmentsPerProject: ASSIGNMENTS_PER_PROJECT, licensesPerProfile: LICENSES_PER_PROFILE };
  const bench = await createBenchDatabase(scope, 'bench_read');
  const { db } = bench.database;
  console.log(`bench database ${bench.database.settings.database}; seeding 1 company, ${PROJECTS} projects x ${ASSIGNMENTS_PER_PROJECT} assignments, ${PROFILES} profiles x ${LICENSES_PER_PROFILE} licences...`);
  const { companyIds: [companyId] } = await seedNested(bench.commands, shape);

  const stack = await startBenchStack(scope, bench, { gateway: true });
  const { workforce } = stack;
  const gateway = stack.gateway!;

  const body = JSON.stringify({ query: QUERY, variables: { id: companyId } });
  const expected = { profiles: PROFILES, licenses: PROFILES * LICENSES_PER_PROFILE };
  const shapeProblem = nestedReadCheck(shape);

  // One request on an otherwise idle stack: the exact statement count of one nested read.
  const single: Record<string, number> = {};
  for (const [label, url] of [['gateway', gateway.url], ['subgraph', workforce.url]] as const) {
    const problem = shapeProblem(JSON.stringify({ data: await graphql(url, QUERY, { id: companyId }) }));
    if (problem) throw new Error(`${label}: ${problem}`);
    const before = await workforce.statements();
    await graphql(url, QUERY, { id: companyId });
    single[label] = (await workforce.statements()) - before;
  }
  console.log(`one nested read (${expected.profiles} profiles, ${expected.licenses} licences): ${single.gateway} SQL statements via the gateway, ${single.subgraph} direct`);

  const targets = [{ label: 'gateway -> subgraph', url: gateway.url }, ...(DIRECT ? [{ label: 'subgraph (direct)', url: workforce.url }] : [])];
  const results: PhaseResult[] = [];
  for (const target of targets) {
    console.log(`${target.label}: ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s...`);
    // Every response is parsed and counted during the run: a wrong or partial read fails.
    const phase = await measurePhase({
      label: target.label,
      load: { url: target.url, connections: CONNECTIONS, body: () => body, check: shapeProblem },
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      workforce,
      db,
      cpuGroups: async () => ({
        subgraph: [workforce.pid],
        ...(target.url === gateway.url ? { gateway: [gateway.pid] } : {}),
        postgres: await bench.backendPids(),
        bench: [process.pid],
      }),
    });
    results.push(phase);
    console.log(`  ${int(phase.rps)} requests/s; CPU cores: ${describeCores(phase.cores)}`);
    console.log(`  CPU ms per request: ${describeCpuMs(phase.cpuMsPerRequest)}`);
    for (const s of phase.load.samples) console.log(`  error sample: ${s}`);
  }

  printTable(
    `bench:read — nested read of ${expected.profiles} profiles / ${expected.licenses} licences, ${CONNECTIONS} connections, ${DURATION_S} s timed after ${WARMUP_S} s warm-up`,
    ['path', 'req/s', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'stmts/req (run)', 'stmts/req (single)'],
    results.map((r) => [
      r.label,
      int(r.rps),
      int(r.load.ok),
      fixed(r.load.p50, 2),
      fixed(r.load.p99, 2),
      fixed(r.load.max, 1),
      r.load.errors,
      fixed(r.statementsPerRequest, 2),
      r.label.startsWith('gateway') ? single.gateway : single.subgraph,
    ]),
  );
  console.log('stmts/req: the subgraph pool\'s statement counter (via IPC from its process); "single" is one request on an idle stack.');
  console.log('latency: client-side, per request; every response is parsed and must hold all profiles and licences.');
});
