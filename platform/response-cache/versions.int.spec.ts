import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../testing/ports.ts';
import { RedisTagVersions, stillCurrent } from './versions.ts';

/**
 * Tag versions on a Redis server of the test's own (redis-server on a free port, no
 * persistence), so it can be restarted and filled: a restart that brings the epoch key
 * back (as a restore from its persistence files would) is still a new epoch, and a Redis
 * at maxmemory still takes bumps.
 */
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
});

async function redisServer(port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  servers.push(child);
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const up = await probe.connect().then(() => true, () => false);
    probe.disconnect();
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGKILL')));

describe('RedisTagVersions', () => {
  it('a restarted server is a new epoch even when its epoch key came back', async () => {
    const port = await freePort();
    let server = await redisServer(port);
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 2 });
    client.on('error', () => {});
    const versions = new RedisTagVersions(client, 't:');
    const read = await versions.start();
    const stored = await client.get('t:cache:epoch');
    expect(stillCurrent(read, await versions.read(['a']))).toBe(true);
    await versions.bump(['a']);
    expect(stillCurrent(read, await versions.read(['a']))).toBe(false);
    const afterWrite = await versions.start();
    expect(stillCurrent(afterWrite, await versions.read(['a']))).toBe(true);

    // The server restarts and its data comes back from before the write (epoch key included).
    await stop(server);
    server = await redisServer(port);
    const restored = new Redis(port, '127.0.0.1');
    await restored.set('t:cache:epoch', stored!);
    restored.disconnect();
    const now = await versions.read(['a']);
    expect(now.epoch).not.toBeNull();
    expect(stillCurrent(afterWrite, now)).toBe(false);
    expect(stillCurrent(read, now)).toBe(false);
    client.disconnect();
  }, 20_000);

  it('a server at maxmemory refuses new keys but still takes bumps', async () => {
    const port = await freePort();
    await redisServer(port, ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    const filler = 'x'.repeat(10_000);
    let refused: unknown = null;
    for (let i = 0; i < 1_000 && !refused; i++) await client.set(`fill:${i}`, filler).catch((err) => (refused = err));
    expect(String(refused)).toMatch(/OOM/);
    const versions = new RedisTagVersions(client, 't:');
    await expect(versions.bump(['a', 'b'])).resolves.toBeUndefined();
    expect((await versions.read(['a', 'b'])).versions).toEqual([1, 1]);
    // And the last resort works there too.
    await versions.dropEverything();
    expect((await versions.read(['a'])).epoch).toBeNull();
    client.disconnect();
  }, 20_000);
});
