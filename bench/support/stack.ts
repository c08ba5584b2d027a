import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../platform/testing/postgres.ts';
import { composeSupergraph } from '../../schema/compose.ts';
import { registrySubgraphs } from '../../bin/compose.ts';
import type { BenchDatabase } from './database.ts';
import type { BenchScope } from './lifecycle.ts';
import { startService, type ServiceProcess } from './services.ts';

export interface BenchStack {
  workforce: ServiceProcess;
  /** Another gateway process on the same subgraphs, with these variables on top (e.g. the response cache off). */
  startGateway?(env: Record<string, string>): Promise<ServiceProcess>;
  /** The supergraph the gateways serve: Workforce and CIAM, the subgraphs the benches run (peers use it too). */
  supergraphPath?: string;
  /** The gateway, with CIAM behind it (the gateway is ready only when every subgraph answers). */
  gateway?: ServiceProcess;
  ciam?: ServiceProcess;
}

/** Far above what a bench sends: the limiter still runs per request, it just never refuses. */
const UNLIMITED = '1000000000';

/**
 * The Workforce subgraph as a child process on the bench database, and optionally the
 * gateway with CIAM (its own fresh database), each its own process on a free port.
 */
export async function startBenchStack(scope: BenchScope, bench: BenchDatabase, o: { gateway: boolean; env?: Record<string, string> }): Promise<BenchStack> {
  const workforce = await startService(scope, 'workforce', { env: { ...bench.env, ANGELIS_WORKFORCE_PORT: '0', ...o.env } });
  if (!o.gateway) return { workforce };

  const ciamDatabase = await createTestDatabase(`${bench.prefix}_ciam`, [], 1);
  scope.defer(() => ciamDatabase.drop());
  await ciamDatabase.db.end();
  const ciam = await startService(scope, 'ciam', {
    env: { ...bench.env, ANGELIS_CIAM_DB_NAME: ciamDatabase.settings.database, ANGELIS_CIAM_PORT: '0', ...o.env },
  });
  const supergraphPath = await benchSupergraph(scope);
  const startGateway = (env: Record<string, string>) =>
    startService(scope, 'gateway', {
      env: {
        ANGELIS_SUPERGRAPH_PATH: supergraphPath,
        ANGELIS_GATEWAY_PORT: '0',
        ANGELIS_WORKFORCE_URL: workforce.url,
        ANGELIS_CIAM_URL: ciam.url,
        ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: UNLIMITED,
        ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: UNLIMITED,
        ...o.env,
        ...env,
      },
    });
  const gateway = await startGateway({});
  return { workforce, gateway, ciam, startGateway, supergraphPath };
}

/**
 * A supergraph of the subgraphs the benches run (Workforce and CIAM), composed like
 * `npm run compose`, in a temporary file: every gateway, ours and the peers, serves it, so
 * each is ready without the other domains running and plans over the same schema.
 */
async function benchSupergraph(scope: BenchScope): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'angelis-bench-'));
  scope.defer(async () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, composeSupergraph(registrySubgraphs().filter((s) => s.name === 'workforce' || s.name === 'ciam')));
  return path;
}
