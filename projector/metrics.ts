import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The projector's Prometheus metrics, in a registry of their own. */
export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly lagEvents = new Gauge({ name: 'angelis_projector_lag_events', help: 'Events committed in the source but not yet in the lake', labelNames: ['source'], registers: [this.registry] });
  readonly lagSeconds = new Gauge({ name: 'angelis_projector_lag_seconds', help: 'Age of the oldest event not yet in the lake (0 when caught up)', labelNames: ['source'], registers: [this.registry] });
  readonly committedPosition = new Gauge({ name: 'angelis_projector_committed_position', help: 'global_position of the last event committed to the lake', labelNames: ['source'], registers: [this.registry] });
  readonly batchEvents = new Histogram({
    name: 'angelis_projector_batch_events', help: 'Events per committed batch', labelNames: ['source'], registers: [this.registry],
    buckets: [1, 10, 100, 1_000, 10_000, 50_000, 100_000],
  });
  readonly stageSeconds = new Histogram({
    name: 'angelis_projector_write_seconds', help: 'Time per batch stage (fetch, parquet, upload, commit, compaction)',
    labelNames: ['source', 'stage'], registers: [this.registry], buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  readonly commitLatency = new Histogram({
    name: 'angelis_projector_commit_latency_seconds', help: "From an event's commit (occurred_at) to its batch's lake commit",
    labelNames: ['source'], registers: [this.registry], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  });
  readonly events = new Counter({ name: 'angelis_projector_events_total', help: 'Events committed to the lake', labelNames: ['source'], registers: [this.registry] });
  readonly files = new Counter({ name: 'angelis_projector_files_total', help: 'Parquet files committed', labelNames: ['source', 'kind'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'angelis_projector_errors_total', help: 'Errors, by kind', labelNames: ['source', 'kind'], registers: [this.registry] });
}

/** Serves `/metrics` for Prometheus; port 0 picks a free one. */
export async function serveMetrics(metrics: ProjectorMetrics, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
