import type http from 'node:http';
import type { Identity } from '../../platform/auth/identity.ts';
import { END_MESSAGES, type EndReason, type NotificationSubscription } from './subscription.ts';

/**
 * What one event stream carries: in distinct-connections mode one operation (id ''), in
 * single-connection mode every operation posted with the stream's token.
 */
export class StreamState {
  readonly ops = new Map<string, NotificationSubscription>();
  writer: SseWriter | null = null;
  /** Events sent before the stream's GET connected (single-connection mode) or before its writer started. */
  private early: string[] = [];

  readonly identity: Identity;
  readonly expiresAtMs: number | undefined;
  /** Single-connection mode's token; null for a distinct connection. */
  readonly token: string | null;

  constructor(
    identity: Identity,
    expiresAtMs: number | undefined,
    token: string | null,
  ) {
    this.identity = identity;
    this.expiresAtMs = expiresAtMs;
    this.token = token;
  }

  /**
   * Writes one operation's result as a `next` event, with `id: <cursor>` when it has one.
   * Results go straight to the stream (not through graphql-sse's per-stream generator
   * chain): a fan-out serialises the shared result once (`json`) and costs each stream
   * one string and one write.
   */
  send(opId: string, result: object, json = JSON.stringify(result)): void {
    const data = opId ? `{"id":${JSON.stringify(opId)},"payload":${json}}` : json;
    const cursor = (result as { extensions?: { cursor?: string } }).extensions?.cursor;
    const text = `${cursor && !/[\r\n]/.test(cursor) ? `id: ${cursor}\n` : ''}event: next\ndata: ${data}\n\n`;
    if (this.writer) this.writer.enqueue(text);
    else this.early.push(text);
  }

  /** What was sent before the writer started. */
  takeEarly(): string[] {
    const early = this.early;
    this.early = [];
    return early;
  }
}

export interface SseWriterOptions {
  /** Events held for a client that reads slowly; past it the stream ends (BUFFER_FULL). */
  buffer: number;
  /** The reconnection delay suggested with `retry:`. */
  retryMs: number;
  /** Sent first when pub/sub is down. */
  degraded: boolean;
  onDone(writer: SseWriter): void;
}

const PING = ':\n\n';

/**
 * One event stream's HTTP response: graphql-sse's protocol messages (operation errors,
 * `complete`) and the notifications sent through StreamState, plus what the protocol
 * leaves to the server: `id:` (the notification cursor, for Last-Event-ID), `retry:`,
 * heartbeats on our own interval (graphql-sse's fixed 12 s pings are dropped), comments
 * for state changes, a bounded buffer for slow clients, and ends that say why.
 */
export class SseWriter {
  private lastWriteMs = Date.now();
  private readonly queued: string[] = [];
  private blocked = false;
  private ended = false;
  private finishing = false;
  private closed = false;

  private readonly res: http.ServerResponse;
  private readonly messages: AsyncGenerator<string, void, undefined>;
  readonly state: StreamState;
  private readonly options: SseWriterOptions;

  constructor(
    res: http.ServerResponse,
    messages: AsyncGenerator<string, void, undefined>,
    state: StreamState,
    options: SseWriterOptions,
  ) {
    this.res = res;
    this.messages = messages;
    this.state = state;
    this.options = options;
  }

  start(headers: Record<string, string>): void {
    this.res.writeHead(200, { ...headers, 'x-accel-buffering': 'no' });
    this.write(`retry: ${this.options.retryMs}\n${PING}`);
    if (this.options.degraded) this.comment(DEGRADED);
    for (const text of this.state.takeEarly()) this.enqueue(text);
    this.res.on('close', () => this.close());
    void this.pump();
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Writes a comment line when the stream has been idle for `idleMs`. */
  heartbeat(nowMs: number, idleMs: number): void {
    if (!this.ended && !this.blocked && nowMs - this.lastWriteMs >= idleMs) this.write(PING);
  }

  /** An SSE comment (`: text`): invisible to EventSource handlers, readable on the wire. */
  comment(text: string): void {
    if (this.ended) return;
    const line = `: ${text}\n\n`;
    if (this.blocked || this.queued.length) this.queued.push(line);
    else this.write(line);
  }

  /**
   * Ends the connection without completing its operations, so clients reconnect (the
   * graphql-sse client does by itself) and resume with Last-Event-ID: first `retry:`, a
   * comment naming the reason, and for each operation a result whose error carries it.
   */
  terminate(reason: EndReason, retryMs = this.options.retryMs): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.length = 0;
    let text = `retry: ${retryMs}\n: ${reason}\n\n`;
    for (const opId of this.state.ops.keys()) {
      const payload = { errors: [{ message: END_MESSAGES[reason], extensions: { code: 'STREAM_ENDED', reason, retryMs } }] };
      text += `event: next\ndata: ${JSON.stringify(opId ? { id: opId, payload } : payload)}\n\n`;
    }
    this.res.end(text);
    // A client that reads nothing any more must not hold the socket.
    setTimeout(() => this.res.destroy(), 2_000).unref();
    void this.messages.return(undefined);
  }

  /** Ends quietly after a comment (e.g. the connection's own token expired). */
  endWith(comment: string): void {
    if (this.ended) return;
    this.ended = true;
    this.queued.length = 0;
    this.res.end(`: ${comment}\n\n`);
    void this.messages.return(undefined);
  }

  private async pump(): Promise<void> {
    try {
      for await (const message of this.messages) {
        if (this.ended) break;
        this.enqueue(message);
      }
    } catch {
      // graphql-sse rethrows an operation's failure here; the stream just ends.
    }
    this.finishing = true;
    this.flushOrEnd();
  }

  /** Writes an event now, or holds it while the client is behind; past the bound the stream ends (BUFFER_FULL). */
  enqueue(text: string): void {
    if (text === PING || this.ended) return;
    if (this.blocked || this.queued.length) {
      this.queued.push(text);
      if (this.queued.length > this.options.buffer) this.terminate('BUFFER_FULL');
      return;
    }
    this.write(text);
  }

  private write(text: string): void {
    this.lastWriteMs = Date.now();
    if (this.res.write(text)) return;
    this.blocked = true;
    this.res.once('drain', () => {
      this.blocked = false;
      this.flushOrEnd();
    });
  }

  private flushOrEnd(): void {
    while (!this.ended && !this.blocked && this.queued.length) this.write(this.queued.shift()!);
    if (this.finishing && !this.ended && !this.blocked && !this.queued.length) {
      this.ended = true;
      this.res.end();
    }
  }

  /** The response is closed (the client left, or we ended it): stop the operations once. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.queued.length = 0;
    void this.messages.return(undefined);
    this.options.onDone(this);
  }
}

export const DEGRADED = 'degraded: Redis pub/sub is unavailable; notifications are polled from the store and may arrive late';
export const RECOVERED = 'recovered: Redis pub/sub is back';
