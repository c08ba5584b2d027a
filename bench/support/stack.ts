import { createTestDatabase } from '../../platform/testing/postgres.ts';
import type { BenchDatabase } from './database.ts';
import type { BenchScope } from './lifecycle.ts';
import { startService, type ServiceProcess } from './services.ts';

export interface BenchStack {
  workforce: ServiceProcess;
  /** Another gateway process on the same subgraphs, with these variables on top (e.g. the response cache off). */
  startGateway?(env: Record<string, string>): Promise<ServiceProcess>;
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
  const startGateway = (env: Record<string, string>) =>
    startService(scope, 'gateway', {
      env: {
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
  return { workforce, gateway, ciam, startGateway };
}
