/**
 * SSE notifications benchmark: one gateway process (a child of this one) holding many open
 * subscriptions on loopback, fed by a Workforce process through real Redis pub/sub.
 *
 *   1. 10,000 concurrent subscribers (distinct-connection mode, raw http streams so the
 *      client stays cheap): the gateway's RSS before and after, and per connection;
 *   2. one notification to 5,000 of them (the other 5,000 are another company's managers and
 *      must receive nothing): delivery latency p50/p99 from the notification's createdAt
 *      (stamped in the committing transaction) to each arrival, and the delegated queries
 *      the gateway issued for it (target: 1 — one selection, one permission scope);
 *   3. a single subscriber: commit-to-delivery latency p50/p99 over sequential notifications.
 *
 *   npm run bench:sse
 *   BENCH_SSE_SUBSCRIBERS=2000 BENCH_SSE_SINGLE=20 npm run bench:sse
 *
 * Needs about 2 x subscribers file descriptors per process (`ulimit -n`, 20000 here for the
 * default 10,000; raise it with `ulimit -n 65536` if needed). Uses the local PostgreSQL
 * (a bench database, dropped) and the local Redis (channel angelis:notifications; rate-limit
 * counters expire within their window).
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runBench } from './support/lifecycle.ts';
import { createBenchDatabase } from './support/database.ts';
import { fixed, int, printTable } from './support/report.ts';
import { seedContext, rutFor } from './support/seed.ts';
import { repoRoot, startService } from './support/services.ts';

const env = process.env;
const SUBSCRIBERS = Number(env.BENCH_SSE_SUBSCRIBERS ?? 10_000);
const SINGLE = Number(env.BENCH_SSE_SINGLE ?? 50);
const REDIS_URL = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNLIMITED = '1000000000';
const SELECTION = `subscription { notificationAdded { id kind title createdAt subject { ... on Project { name faenaCode } } } }`;

type GatewayStats = { rss: number; heapUsed: number; delegatedQueries: number; openStreams: number };

if (process.argv[2] === '--gateway') {
  // The measured process: the gateway as gateway/main.ts runs it, plus stats over IPC.
  const { loadConfig } = await import('../platform/config.ts');
  const { createLogger } = await import('../platform/logger.ts');
  const { onShutdown } = await import('../platform/process/shutdown.ts');
  const { startGateway } = await import('../gateway/server.ts');
  const config = loadConfig(process.env);
  const log = createLogger('gateway', config.ANGELIS_LOG_LEVEL);
  const gateway = await startGateway(config, log);
  onShutdown(log, () => gateway.stop());
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'stats') return;
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send!({ type: 'stats', stats: { rss, heapUsed, delegatedQueries: gateway.notifications.hub.delegatedQueries, openStreams: gateway.notifications.openStreams } });
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.send!({ type: 'ready', url: gateway.url });
} else {
  await runBench('bench:sse', 4 * 60_000, async (scope) => {
    const bench = await createBenchDatabase(scope, 'bench_sse');
    const ctx = seedContext();
    const companies: { id: string; projectId: string }[] = [];
    for (let c = 0; c < 2; c++) {
      const id = await bench.commands.registerCompany(ctx, { name: `SSE Bench ${c}`, taxRut: rutFor(91_000_000 + c) });
      const projectId = await bench.commands.createProject(ctx, { companyId: id, name: `Stream ${c}`, faenaCode: `SSE${c}`, startsOn: '2026-01-01' });
      companies.push({ id, projectId });
    }
    const shared = { ANGELIS_REDIS_URL: REDIS_URL, ANGELIS_NOTIFICATIONS_SCAN_MS: '0' };
    const workforce = await startService(scope, 'workforce', { env: { ...bench.env, ...shared, ANGELIS_WORKFORCE_PORT: '0' } });

    // The gateway: its own process, measured.
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--gateway'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...shared,
        NODE_ENV: 'development',
        ANGELIS_LOG_LEVEL: 'warn',
        ANGELIS_GATEWAY_PORT: '0',
        ANGELIS_WORKFORCE_URL: workforce.url,
        ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: UNLIMITED,
        ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: UNLIMITED,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    scope.defer(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: { type: string; url?: string }) => m.type === 'ready' && resolve(m.url!));
      void exited.then(() => reject(new Error('the gateway exited while starting')));
    });
    const stats = () =>
      new Promise<GatewayStats>((resolve) => {
        const on = (m: { type: string; stats?: GatewayStats }) => {
          if (m.type !== 'stats') return;
          child.off('message', on);
          resolve(m.stats!);
        };
        child.on('message', on);
        child.send({ type: 'stats' });
      });
    const streamUrl = new URL('/graphql/stream', url);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    scope.defer(async () => agent.destroy());

    interface Stream {
      req: http.ClientRequest;
      arrivals: { at: number; createdAt: string; id: string }[];
    }
    /** One raw SSE subscription; resolves once the stream is open (the first `retry:`). */
    const open = (headers: Record<string, string>): Promise<Stream> =>
      new Promise((resolve, reject) => {
        const stream: Stream = { req: null!, arrivals: [] };
        stream.req = http.request(streamUrl, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers } }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
          let buffer = '';
          let opened = false;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = Date.now();
            buffer += chunk;
            if (!opened && buffer.includes('retry:')) {
              opened = true;
              resolve(stream);
            }
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block.split('\n').find((l) => l.startsWith('data: '));
              if (!block.includes('event: next') || !data) continue;
              const n = (JSON.parse(data.slice(6)) as { data?: { notificationAdded?: { id: string; createdAt: string } } }).data?.notificationAdded;
              if (n) stream.arrivals.push({ at, createdAt: n.createdAt, id: n.id });
            }
          });
          res.on('error', () => {});
        });
        stream.req.on('error', reject);
        stream.req.end(JSON.stringify({ query: SELECTION }));
      });
    const manager = (company: number, n: number) => ({
      'x-angelis-dev-user': `manager-${n}@c${company}.bench`,
      'x-angelis-dev-role': 'MANAGER',
      'x-angelis-dev-company': companies[company].id,
    });
    let raised = 0;
    const raise = async (company: number): Promise<string> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'system:bench-relay' },
        body: JSON.stringify({
          query: `mutation($i: RaiseNotificationInput!) { raiseNotification(input: $i) { id } }`,
          variables: { i: { sourceEventId: `bench-${Date.now()}-${raised++}`, kind: 'ANOMALY_REPORTED', title: 'Bench', body: 'A notification', subjectType: 'Project', subjectId: companies[company].projectId, projectId: companies[company].projectId } },
        }),
      });
      const body = (await res.json()) as { data?: { raiseNotification?: { id: string } }; errors?: unknown };
      if (!body.data?.raiseNotification) throw new Error(`raiseNotification: ${JSON.stringify(body.errors)}`);
      return body.data.raiseNotification.id;
    };
    const waitFor = async (check: () => boolean, what: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const pct = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
    };

    // Warm up: a few streams and one delivery (JIT, plans, pools), then the baseline.
    const warm = await Promise.all([0, 1, 2].map((n) => open(manager(0, 1_000_000 + n))));
    await new Promise((r) => setTimeout(r, 300));
    await raise(0);
    await waitFor(() => warm.every((s) => s.arrivals.length === 1), 'the warm-up delivery');
    for (const s of warm) s.req.destroy();
    await waitFor(() => true, '');
    await new Promise((r) => setTimeout(r, 500));
    const base = await stats();

    // 1. Many concurrent subscribers: half A's managers, half B's.
    const started = Date.now();
    const streams: Stream[] = [];
    const BATCH = 250;
    for (let i = 0; i < SUBSCRIBERS; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(SUBSCRIBERS, i + BATCH); j++) batch.push(open(manager(j % 2, j)));
      streams.push(...(await Promise.all(batch)));
    }
    const openedS = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1_000));
    const loaded = await stats();
    if (loaded.openStreams < SUBSCRIBERS) throw new Error(`only ${loaded.openStreams} streams open`);

    // 2. One notification to the A half.
    const toA = streams.filter((_, j) => j % 2 === 0);
    const toB = streams.filter((_, j) => j % 2 === 1);
    const before = loaded.delegatedQueries;
    const id = await raise(0);
    await waitFor(() => toA.every((s) => s.arrivals.some((a) => a.id === id)), `delivery to ${toA.length} subscribers`);
    await new Promise((r) => setTimeout(r, 500));
    const fanOut = toA.map((s) => s.arrivals.find((a) => a.id === id)!).map((a) => a.at - Date.parse(a.createdAt));
    const afterFanOut = await stats();
    const strays = toB.reduce((n, s) => n + s.arrivals.length, 0);
    if (strays > 0) throw new Error(`${strays} notifications reached another company's managers`);
    for (const s of streams) s.req.destroy();
    await waitFor(() => true, '');
    await new Promise((r) => setTimeout(r, 1_000));

    // 3. One subscriber, sequential notifications.
    const single = await open(manager(0, 2_000_000));
    await new Promise((r) => setTimeout(r, 300));
    const latencies: number[] = [];
    for (let n = 0; n < SINGLE; n++) {
      const nid = await raise(0);
      await waitFor(() => single.arrivals.some((a) => a.id === nid), 'a single delivery', 10_000);
      const a = single.arrivals.find((x) => x.id === nid)!;
      latencies.push(a.at - Date.parse(a.createdAt));
    }
    single.req.destroy();

    const mb = (b: number) => b / 1024 / 1024;
    printTable(`bench:sse — ${int(SUBSCRIBERS)} concurrent SSE subscribers on one gateway process (loopback)`, ['measure', 'value'], [
      ['streams opened in', `${fixed(openedS)} s`],
      ['gateway RSS, idle (after warm-up)', `${fixed(mb(base.rss))} MB`],
      [`gateway RSS, ${int(SUBSCRIBERS)} streams open`, `${fixed(mb(loaded.rss))} MB`],
      ['RSS per connection', `${fixed((loaded.rss - base.rss) / SUBSCRIBERS / 1024)} kB`],
      ['JS heap per connection', `${fixed((loaded.heapUsed - base.heapUsed) / SUBSCRIBERS / 1024)} kB`],
      [`one notification to ${int(toA.length)}: delivery p50`, `${fixed(pct(fanOut, 50))} ms`],
      [`one notification to ${int(toA.length)}: delivery p99`, `${fixed(pct(fanOut, 99))} ms`],
      [`one notification to ${int(toA.length)}: last delivery`, `${fixed(Math.max(...fanOut))} ms`],
      ['delegated queries for it', int(afterFanOut.delegatedQueries - before)],
      [`reached the other ${int(toB.length)} (must be 0)`, int(strays)],
      [`single subscriber, commit-to-delivery p50 (${SINGLE} notifications)`, `${fixed(pct(latencies, 50))} ms`],
      [`single subscriber, commit-to-delivery p99`, `${fixed(pct(latencies, 99))} ms`],
    ]);
    console.log('\nLatencies run from the notification\'s createdAt (stamped before its transaction commits) to arrival at the client; target p99 under 1 s for the fan-out.');
  });
}
