import { readFileSync } from 'node:fs';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmStart, npmStartSetup, stopRun, untilRunning, type NpmStartRun, type NpmStartSetup } from './support/npm-start.ts';

/**
 * The README's examples run as written on a fresh `npm start`, so they cannot rot: every
 * ```graphql block (with the ```json variables block right after it, if any) and the curl
 * example, in the README's order, through the gateway, each without a single error.
 * The README's convention: `{{Name.path}}` in variables or a header is a value from the
 * answer of the earlier operation named Name (`{{Login.login.challengeId}}`), `{{code}}` the
 * next one-time code CIAM logged; a block's leading `# header: value` lines are headers it
 * sends instead of the development header.
 */

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
/** What the README's curl and prose say the gateway is, replaced with this run's. */
const README_URL = 'http://127.0.0.1:4000/graphql';
const DEV_HEADER = { 'x-angelis-dev-user': 'you@example.com' };

interface Example {
  /** Where it is, for failure messages. */
  where: string;
  name: string | null;
  /** A subscription: opened on the gateway's stream endpoint instead of sent to /graphql. */
  subscription?: boolean;
  query: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
}

const lineOf = (index: number) => README.slice(0, index).split('\n').length;

/** The examples in README order: graphql blocks with their variables, and curl commands. */
function examples(): Example[] {
  const blocks = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2], start: m.index!, end: m.index! + m[0].length }));
  const found: Example[] = [];
  blocks.forEach((b, i) => {
    const where = `README.md:${lineOf(b.start)}`;
    if (b.lang === 'graphql') {
      const next = blocks[i + 1];
      const variables = next?.lang === 'json' && README.slice(b.end, next.start).trim() === '' ? (JSON.parse(next.body) as Record<string, unknown>) : {};
      const headers = Object.fromEntries([...b.body.matchAll(/^#\s*([A-Za-z-]+):\s*(.+)$/gm)].map((h) => [h[1].toLowerCase(), h[2].trim()]));
      const operations = parse(b.body).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations, `${where}: one operation per block`).toHaveLength(1);
      const subscription = (operations[0] as OperationDefinitionNode).operation === 'subscription';
      found.push({ where, name: operations[0].name?.value ?? null, query: b.body, variables, headers: Object.keys(headers).length ? headers : DEV_HEADER, subscription });
    } else if (b.lang === 'bash' && b.body.includes('curl')) {
      const command = b.body.replace(/\\\n\s*/g, ' ');
      const body = /-d '([^']+)'/.exec(command)?.[1];
      if (!body) return;
      const headers = Object.fromEntries([...command.matchAll(/-H '([^:]+):\s*([^']+)'/g)].map((h) => [h[1].toLowerCase(), h[2]]));
      const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
      found.push({ where, name: null, query, variables: variables ?? {}, headers });
    }
  });
  return found;
}

let setup: NpmStartSetup;
let run: NpmStartRun;

beforeAll(async () => {
  // info: CIAM logs the one-time codes there in development.
  setup = await npmStartSetup({ ANGELIS_LOG_LEVEL: 'info', ANGELIS_PROJECTOR_ENABLED: 'false' });
  run = npmStart(setup.env);
  await untilRunning(run);
}, 120_000);

afterAll(async () => {
  if (run) await stopRun(run);
  setup?.remove();
});

/** One-time codes CIAM logged, oldest first. */
function loggedCodes(): string[] {
  return run
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"msg":"one-time login code'))
    .map((l) => (JSON.parse(l) as { code: string }).code);
}

describe('README examples', () => {
  it('run in order on a fresh npm start without an error', async () => {
    const all = examples();
    expect(all.length).toBeGreaterThanOrEqual(15);
    const answers = new Map<string, unknown>();
    let codesUsed = 0;

    const lookup = async (reference: string, where: string): Promise<unknown> => {
      if (reference === 'code') {
        for (let i = 0; i < 100 && loggedCodes().length <= codesUsed; i++) await new Promise((r) => setTimeout(r, 100));
        const code = loggedCodes()[codesUsed++];
        expect(code, `${where}: no one-time code was logged`).toBeDefined();
        return code;
      }
      const [name, ...path] = reference.split('.');
      expect(answers.has(name), `${where}: {{${reference}}} names no earlier operation`).toBe(true);
      const value = path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], answers.get(name));
      expect(value, `${where}: {{${reference}}} is not in ${name}'s answer`).not.toBeUndefined();
      return value;
    };
    const fill = async (value: unknown, where: string): Promise<unknown> => {
      if (typeof value === 'string') {
        const whole = /^\{\{([\w.]+)\}\}$/.exec(value);
        if (whole) return lookup(whole[1], where);
        let out = value;
        for (const m of value.matchAll(/\{\{([\w.]+)\}\}/g)) out = out.replace(m[0], String(await lookup(m[1], where)));
        return out;
      }
      if (Array.isArray(value)) return Promise.all(value.map((v) => fill(v, where)));
      if (value && typeof value === 'object') {
        return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await fill(v, where)])));
      }
      return value;
    };

    for (const example of all) {
      const variables = (await fill(example.variables, example.where)) as Record<string, unknown>;
      const headers = (await fill(example.headers, example.where)) as Record<string, string>;
      if (example.subscription) {
        // The server validates a subscription when it opens: an example it refuses errors at once.
        const refused = await refusedSubscription(`${setup.gatewayUrl}/stream`, example.query, variables, headers);
        expect(refused, `${example.where}: ${JSON.stringify(refused)}`).toBeNull();
        continue;
      }
      const res = await fetch(setup.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: example.query, variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
      const shown = `${example.where} (${example.name ?? 'anonymous'}): ${JSON.stringify(body).slice(0, 1500)}`;
      expect(body.errors, shown).toBeUndefined();
      expect(res.status, shown).toBe(200);
      if (example.name) answers.set(example.name, body.data);
    }
  }, 180_000);

  it('name the gateway where npm start listens, and the seeded worker logins npm start prints', () => {
    expect(README).toContain(README_URL);
    expect(README).not.toMatch(/localhost:4000/);
    const seededRuts = [...run.output().matchAll(/requestWorkerCode\(rut: "([^"]+)"\)/g)].map((m) => m[1]);
    const readmeRuts = [...README.matchAll(/requestWorkerCode\(rut: "([^"]+)"\)/g)].map((m) => m[1]);
    expect(readmeRuts.length).toBeGreaterThan(0);
    for (const rut of readmeRuts) expect(seededRuts.map((r) => r.replace(/\./g, ''))).toContain(rut.replace(/\./g, ''));
  });
});

/** Opens a subscription with the graphql-sse client and waits a moment: the error it got, or null. */
async function refusedSubscription(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<unknown> {
  const client = createClient({ url, headers, retryAttempts: 0 });
  try {
    return await new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve(null), 1500);
      client.subscribe({ query, variables }, {
        next: (result) => { if (result.errors) { clearTimeout(timer); resolve(result.errors); } },
        error: (err) => { clearTimeout(timer); resolve(err instanceof Error ? err.message : err); },
        complete: () => { clearTimeout(timer); resolve('completed at once'); },
      });
    });
  } finally {
    client.dispose();
  }
}
