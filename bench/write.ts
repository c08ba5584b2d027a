/**
 * Write benchmark: appends through the Workforce subgraph (child process) with 16
 * concurrent clients, then the same through the gateway (the gateway and CIAM run as
 * child processes too; see bench/support/stack.ts).
 * Throughput is counted on the server: rows of the events table whose transaction
 * started inside the timed window, divided by the window on PostgreSQL's clock.
 *
 *   npm run bench:write
 *   BENCH_WRITE_MUTATION=grantLicense BENCH_VIA_GATEWAY=0 BENCH_DURATION_S=15 npm run bench:write
 *   BENCH_CPU_PROF=/tmp/prof npm run bench:write    # V8 CPU profiles, one folder per service
 *   npm run bench:write -- --against 69290a7 [--rounds 3]   # an older commit and this tree, alternately
 */
import { runBench } from './support/lifecycle.ts';
import { createBenchDatabase } from './support/database.ts';
import { runLoad } from './support/load.ts';
import { describeCores, describeCpuMs, measurePhase, type PhaseResult } from './support/phase.ts';
import { fixed, int, printTable } from './support/report.ts';
import { mapLimit, rutFor, seedContext } from './support/seed.ts';
import { startBenchStack } from './support/stack.ts';
import { compareWithCommit } from './support/compare.ts';

const env = process.env;
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 16);
const WARMUP_S = Number(env.BENCH_WARMUP_S ?? 3);
const DURATION_S = Number(env.BENCH_DURATION_S ?? 15);
const PROFILES = Number(env.BENCH_PROFILES ?? 2000);
const MUTATION = (env.BENCH_WRITE_MUTATION ?? 'updateProfile') as keyof typeof MUTATIONS;
const VIA_GATEWAY = env.BENCH_VIA_GATEWAY !== '0';
const TARGET_EVENTS_PER_S = 2000;

/** Each command appends exactly one event to one profile's stream. */
const MUTATIONS = {
  // A new first name every time, so the decision never finds "no change".
  updateProfile: {
    query: `mutation Bench($id: ID!, $name: String!) { updateProfile(id: $id, input: { firstName: $name }) { id version } }`,
    variables: (profileId: string, n: number) => ({ id: profileId, name: `Bench${n}` }),
  },
  grantLicense: {
    query: `mutation Bench($input: GrantLicenseInput!) { grantLicense(input: $input) { id } }`,
    variables: (profileId: string, n: number) => ({ input: { profileId, type: 'Rigger', number: `L-${n}`, expiresOn: '2031-12-31' } }),
  },
};

const args = process.argv.slice(2);
const against = args.includes('--against') ? args[args.indexOf('--against') + 1] : undefined;
if (against) {
  // Side by side: the same bench (subgraph path) on an older commit and on this tree.
  await compareWithCommit({
    name: `bench:write (${MUTATION}, subgraph, ${CONNECTIONS} clients)`,
    script: 'bench/write.ts',
    against,
    rounds: args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3,
    env: { ...env, BENCH_VIA_GATEWAY: '0' },
    figure: (output) => {
      const m = /^\s*([\d,]+) events\/s; CPU cores/m.exec(output);
      return m ? Number(m[1].replace(/,/g, '')) : null;
    },
    unit: 'events/s',
  });
  process.exit(0);
}

await runBench('bench:write', 10 * 60_000, async (scope) => {
  if (!(MUTATION in MUTATIONS)) throw new Error(`BENCH_WRITE_MUTATION must be one of ${Object.keys(MUTATIONS).join(', ')}`);
  const bench = await createBenchDatabase(scope, 'bench_write');
  const { db } = bench.database;
  console.log(`bench database ${bench.database.settings.database}; seeding ${PROFILES} profiles...`);
  const ctx = seedContext();
  const profileIds = await mapLimit(Array.from({ length: PROFILES }, (_, i) => i), 8, (i) =>
    bench.commands.createProfile(ctx, { rut: rutFor(i), firstName: 'Seed', lastName: `Profile ${i}` }),
  );

  const { workforce, gateway } = await startBenchStack(scope, bench, { gateway: VIA_GATEWAY });

  // Round-robin over many profiles: 16 requests in flight never share a stream, so there
  // are no version conflicts, and every aggregate state is cached after the warm-up.
  const { query, variables } = MUTATIONS[MUTATION];
  let n = 0;
  const body = () => {
    const i = n++;
    return JSON.stringify({ query, variables: variables(profileIds[i % profileIds.length], i) });
  };

  // One command per profile first, so the timed runs measure the steady state (aggregate
  // states cached) even when the warm-up is too short to touch every profile.
  console.log(`priming: one ${MUTATION} per profile...`);
  const prime = await runLoad({ url: workforce.url, connections: CONNECTIONS, amount: PROFILES, body });
  if (prime.errors > 0) throw new Error(`priming failed: ${prime.samples.join(' | ')}`);

  const targets = [{ label: 'subgraph', url: workforce.url }, ...(gateway ? [{ label: 'gateway -> subgraph', url: gateway.url }] : [])];
  const results: (PhaseResult & { events: number; eventsPerS: number })[] = [];
  for (const target of targets) {
    console.log(`${target.label}: ${MUTATION}, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s...`);
    const phase = await measurePhase({
      label: target.label,
      load: { url: target.url, connections: CONNECTIONS, body },
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      workforce,
      db,
      cpuGroups: async () => ({
        subgraph: [workforce.pid],
        ...(target.url === gateway?.url ? { gateway: [gateway.pid] } : {}),
        postgres: await bench.backendPids(),
        bench: [process.pid],
      }),
    });
    // Let commands still in flight when the clients stopped commit before counting.
    await new Promise((r) => setTimeout(r, 300));
    const { rows } = await db.query<{ events: number; seconds: number }>(
      `SELECT count(*)::int AS events, extract(epoch FROM $2::timestamptz - $1::timestamptz)::float8 AS seconds
       FROM events WHERE occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz`,
      [phase.window.from, phase.window.to],
    );
    const eventsPerS = rows[0].events / rows[0].seconds;
    results.push({ ...phase, events: rows[0].events, eventsPerS });
    console.log(`  ${int(eventsPerS)} events/s; CPU cores: ${describeCores(phase.cores)}`);
    console.log(`  CPU ms per command: ${describeCpuMs(phase.cpuMsPerRequest)}`);
    for (const s of phase.load.samples) console.log(`  error sample: ${s}`);
  }

  const { rows: totals } = await db.query<{ events: number }>('SELECT count(*)::int AS events FROM events');
  printTable(
    `bench:write — ${MUTATION}, ${CONNECTIONS} clients, ${DURATION_S} s timed after ${WARMUP_S} s warm-up, ${PROFILES} profiles (${totals[0].events} events in the store at the end)`,
    ['path', 'events/s', 'events', 'ok req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'stmts/cmd', 'target'],
    results.map((r) => [
      r.label,
      int(r.eventsPerS),
      int(r.events),
      int(r.rps),
      fixed(r.load.p50, 2),
      fixed(r.load.p99, 2),
      fixed(r.load.max, 1),
      r.load.errors,
      fixed(r.statementsPerRequest, 2),
      r.label === 'subgraph' ? (r.eventsPerS >= TARGET_EVENTS_PER_S ? `>= ${TARGET_EVENTS_PER_S} ok` : `< ${TARGET_EVENTS_PER_S} MISSED`) : '',
    ]),
  );
  console.log('events/s: events-table rows whose transaction began in the timed window / the window (PostgreSQL clock).');
  console.log('stmts/cmd: the subgraph pool\'s statement counter (via IPC from its process) / requests sent, BEGIN/COMMIT included.');
  console.log('latency: client-side, per request, successful requests only. CPU shares printed above per path.');
});
