import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { companyWithProject, raiseAboutProject, rawEvents, rawStream } from './support/sse.ts';
import { freePort } from '../platform/testing/ports.ts';

/**
 * A real gateway process (gateway/main.ts) in front of the test stack's subgraphs: SIGTERM
 * ends every open stream with a retry hint and a reason, without completing it (so clients
 * reconnect elsewhere with Last-Event-ID), and the process exits within 10 s.
 */
let stack: TestStack;
let child: ChildProcess | undefined;
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack('notify_stop');
  const offering = (await okAs(stack, role.admin(), `mutation { createOffering(input: {code: "STP", name: "Stop"}) { id } }`)).createOffering.id;
  Object.assign(ids, await companyWithProject(stack, 'Alpha', rut(76_700_001), offering));
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stack?.stop();
});

describe('SIGTERM', () => {
  it('closes every stream with retry: and SHUTTING_DOWN, and the process exits 0 within 10 s', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['gateway/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        ANGELIS_LOG_LEVEL: 'warn',
        ANGELIS_GATEWAY_PORT: String(port),
        ANGELIS_WORKFORCE_URL: stack.workforce.server.url,
        ANGELIS_CIAM_URL: stack.ciam.server.url,
        ANGELIS_GATEWAY_SSE_POLL_MS: '200',
        ANGELIS_GATEWAY_SSE_RETRY_MS: '1500',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}/graphql`;
    for (let i = 0; ; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 200) throw new Error(`the gateway did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const manager = role.manager(ids.companyId, 'manager@a.example');
    const streams = await Promise.all([0, 1, 2].map(() => rawStream(url, manager, `subscription { notificationAdded { id } }`)));
    await new Promise((r) => setTimeout(r, 500));
    const id = await raiseAboutProject(stack, ids.projectId, 'Before stop');
    for (const s of streams) await s.waitFor(new RegExp(id));

    const started = Date.now();
    child.kill('SIGTERM');
    for (const s of streams) {
      await s.ended;
      const text = s.text();
      expect(text).toMatch(/retry: 1500\n: SHUTTING_DOWN\n\n/);
      expect(rawEvents(text).at(-1)!.result.errors[0].extensions).toMatchObject({ code: 'STREAM_ENDED', reason: 'SHUTTING_DOWN' });
      expect(text).not.toContain('event: complete');
    }
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);
});
