import http from 'node:http';
import { createClient, type Client, type ExecutionResult } from 'graphql-sse';
import { okAs, okAsService, role } from './workforce.ts';
import type { TestStack } from './stack.ts';

/** The gateway's stream endpoint for its /graphql URL. */
export const streamUrl = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/graphql/stream');

/** The real graphql-sse client against a gateway, in either mode. */
export function sseClient(graphqlUrl: string, headers: Record<string, string> | (() => Record<string, string>), singleConnection = false, retryAttempts = 0): Client {
  return createClient({
    url: streamUrl(graphqlUrl),
    headers: typeof headers === 'function' ? headers : () => headers,
    singleConnection,
    retryAttempts,
    // Reconnect at once in tests (the default waits 1 s and more).
    retry: async () => new Promise((r) => setTimeout(r, 50)),
  });
}

export interface Collected {
  results: ExecutionResult<any, any>[];
  /** Waits until at least `n` results arrived; returns them. */
  waitFor(n: number, timeoutMs?: number): Promise<ExecutionResult<any, any>[]>;
  /** Resolves when the subscription completes (or fails: `error` is set). */
  ended: Promise<void>;
  error: unknown;
  dispose(): void;
}

/** Subscribes and collects every result. */
export function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Collected {
  const results: ExecutionResult<any, any>[] = [];
  let wake: () => void = () => {};
  let endResolve: () => void = () => {};
  const out: Collected = {
    results,
    error: undefined,
    ended: new Promise<void>((r) => (endResolve = r)),
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (results.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} results, got ${results.length}: ${JSON.stringify(results).slice(0, 1500)}; error ${String(out.error)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return results;
    },
    dispose: () => {},
  };
  out.dispose = client.subscribe(
    { query, variables },
    {
      next: (r) => {
        results.push(r as ExecutionResult<any, any>);
        wake();
      },
      error: (err) => {
        out.error = err;
        endResolve();
      },
      complete: () => endResolve(),
    },
  );
  return out;
}

/** A raw SSE connection (what a browser's EventSource or a proxy sees on the wire). */
export interface RawStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  text(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  ended: Promise<void>;
  req: http.ClientRequest;
  res: http.IncomingMessage;
  close(): void;
}

/** Opens a distinct-connection subscription with plain http (POST, accept text/event-stream). */
export function rawStream(graphqlUrl: string, headers: Record<string, string>, query: string, options: { paused?: boolean; variables?: Record<string, unknown> } = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(streamUrl(graphqlUrl), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      let endResolve: () => void = () => {};
      const ended = new Promise<void>((r) => (endResolve = r));
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => endResolve());
      res.on('close', () => endResolve());
      res.on('error', () => endResolve());
      if (options.paused) res.pause();
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        async waitFor(pattern, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const m = text.match(pattern);
            if (m) return m;
            if (Date.now() > deadline) throw new Error(`${pattern} not seen in ${JSON.stringify(text.slice(-1500))}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        ended,
        req,
        res,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query, variables: options.variables ?? {} }));
  });
}

/** The `next` events of a raw stream (distinct mode: the data is the execution result). */
export function rawEvents(text: string): { id: string | null; result: any }[] {
  const events: { id: string | null; result: any }[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    if (!lines.some((l) => l === 'event: next')) continue;
    const id = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? null;
    const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
    events.push({ id, result: data ? JSON.parse(data) : null });
  }
  return events;
}

let raised = 0;
/**
 * Raises a notification about a project (to its company's managers and the admins), as
 * another domain's relay does: Workforce's raiseNotification as a signed service. Returns its id.
 */
export async function raiseAboutProject(stack: TestStack, projectId: string, title = `Notice ${++raised}`, body = 'Something happened'): Promise<string> {
  const data = await okAsService(stack, 'test-relay', `mutation($i: RaiseNotificationInput!) { raiseNotification(input: $i) { id } }`, {
    i: { sourceEventId: `evt-${Date.now()}-${Math.random()}`, kind: 'ANOMALY_REPORTED', title, body, subjectType: 'Project', subjectId: projectId, projectId },
  });
  return data.raiseNotification.id as string;
}

/** A company with a subscription and a project; returns their ids. */
export async function companyWithProject(stack: TestStack, name: string, taxRut: string, offeringId: string) {
  const admin = role.admin();
  const companyId = (await okAs(stack, admin, `mutation($r: String!, $n: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { r: taxRut, n: name })).registerCompany.id as string;
  await okAs(stack, admin, `mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 10}) { id } }`, { c: companyId, o: offeringId });
  const projectId = (
    await okAs(stack, admin, `mutation($c: ID!, $n: String!, $f: String!, $s: Date!) { createProject(input: {companyId: $c, name: $n, faenaCode: $f, startsOn: $s}) { id } }`, {
      c: companyId,
      n: `${name} Project`,
      f: `F-${taxRut}`,
      s: new Date().toISOString().slice(0, 10),
    })
  ).createProject.id as string;
  return { companyId, projectId };
}
