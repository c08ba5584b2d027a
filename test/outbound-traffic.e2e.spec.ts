import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The platform calls only what it is configured to call. Every outgoing HTTP request of
 * this process (node:http and undici, which fetch uses) is recorded while a whole stack
 * starts, answers queries through the gateway, idles and stops: all of them go to the local
 * services. (@apollo/gateway, left to itself, probes cloud metadata endpoints at start and
 * exports usage metrics to Apollo, and Apollo Server reports operations to Apollo whenever
 * an APOLLO_KEY is set: the gateway turns both off unless ANGELIS_GATEWAY_APOLLO_TELEMETRY=on.)
 */
const hosts = new Set<string>();
const onHttp = (message: unknown) => {
  const request = (message as { request: ClientRequest }).request;
  hosts.add(String(request.host ?? request.getHeader('host')).replace(/:\d+$/, ''));
};
const onUndici = (message: unknown) => {
  const origin = (message as { request: { origin: string | URL } }).request.origin;
  hosts.add(new URL(String(origin)).hostname);
};

let stack: TestStack | undefined;
beforeAll(async () => {
  diagnostics.subscribe('http.client.request.start', onHttp);
  diagnostics.subscribe('undici:request:create', onUndici);
  // An Apollo GraphOS key left in the environment (for another tool) must not switch Apollo
  // Server's usage reporting on either: it would send every operation's signature away.
  process.env.APOLLO_KEY = 'service:not-ours:0000';
  process.env.APOLLO_GRAPH_REF = 'not-ours@current';
  stack = await startTestStack('outbound');
});
afterAll(async () => {
  await stack?.stop();
  delete process.env.APOLLO_KEY;
  delete process.env.APOLLO_GRAPH_REF;
  diagnostics.unsubscribe('http.client.request.start', onHttp);
  diagnostics.unsubscribe('undici:request:create', onUndici);
});

describe('outgoing traffic', () => {
  it('goes only to the local services while the stack starts, serves, idles and stops', async () => {
    const res = await stack!.gql('{ offerings { code } companies(first: 1) { nodes { id name } } }');
    expect(res.errors).toBeUndefined();
    // Cloud detectors answer (or time out) within a second or so of start.
    await new Promise((r) => setTimeout(r, 2_000));
    // Stopping flushes whatever a reporting plugin would have queued.
    await stack!.stop();
    stack = undefined;
    expect(hosts.size).toBeGreaterThan(0);
    expect([...hosts].filter((h) => h !== '127.0.0.1' && h !== 'localhost')).toEqual([]);
  });
});
