import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The platform calls only what it is configured to call. Every outgoing HTTP request of
 * this process (node:http and undici, which fetch uses) is recorded while a whole stack
 * starts, answers queries through the gateway and idles: all of them go to the local
 * services. (@apollo/gateway, left to itself, probes cloud metadata endpoints at start and
 * exports usage metrics to Apollo: the gateway turns that off unless
 * ANGELIS_GATEWAY_APOLLO_TELEMETRY=on.)
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

let stack: TestStack;
beforeAll(async () => {
  diagnostics.subscribe('http.client.request.start', onHttp);
  diagnostics.subscribe('undici:request:create', onUndici);
  stack = await startTestStack('outbound');
});
afterAll(async () => {
  await stack?.stop();
  diagnostics.unsubscribe('http.client.request.start', onHttp);
  diagnostics.unsubscribe('undici:request:create', onUndici);
});

describe('outgoing traffic', () => {
  it('goes only to the local services while the stack starts, serves and idles', async () => {
    const res = await stack.gql('{ offerings { code } companies(first: 1) { nodes { id name } } }');
    expect(res.errors).toBeUndefined();
    // Cloud detectors answer (or time out) within a second or so of start.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(hosts.size).toBeGreaterThan(0);
    expect([...hosts].filter((h) => h !== '127.0.0.1' && h !== 'localhost')).toEqual([]);
  });
});
