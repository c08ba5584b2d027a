import type { GraphQLFormattedError } from 'graphql';
import type { Identity } from '../../platform/auth/identity.ts';
import type { Logger } from '../../platform/logger.ts';
import { FEED_ALIAS, NODE_CURSOR_ALIAS, NODE_ID_ALIAS, replayVariables, type DelegationPlan } from './delegation.ts';
import type { Delivery, Execute, NotificationHub, Recipient } from './hub.ts';

type Result = Delivery['result'] | { errors: readonly GraphQLFormattedError[] };

/** Why the gateway ends a subscription (sent as `extensions.reason` of its last result). */
export type EndReason = 'TOKEN_EXPIRED' | 'SESSION_REVOKED' | 'BUFFER_FULL' | 'SHUTTING_DOWN';

interface ReplayNode {
  [NODE_ID_ALIAS]: string;
  [NODE_CURSOR_ALIAS]: string;
  [field: string]: unknown;
}

/**
 * One subscriber's `notificationAdded`: its results go to its stream (StreamState.send);
 * graphql-sse sees an async generator that ends when the subscription does.
 *
 * With a Last-Event-ID it replays the caller's own feed after that cursor (as the caller,
 * with its selection), then joins this instance's live deliveries. Cursors are opaque, so
 * the join is decided by the feed itself, not by comparing them: live deliveries are held
 * while the caller's feed is read; a held one that the read returned proves this
 * instance's reader is past the replay's end (it reads in commit order), so from there on
 * live deliveries are new unless the reads already sent them. A held one that arrived
 * before a read began and is not in it is older than the replay (an instance whose reader
 * lags the client's previous connection): dropped. No duplicates, no gaps, feed order.
 */
export class NotificationSubscription implements Recipient, AsyncGenerator<Result, void, undefined> {
  private wake: (() => void) | null = null;
  private closing = false;
  private done = false;
  /** Between open(lastEventId) and the join with the live deliveries. */
  private joining = false;
  private reading = false;
  /** The caller's feed has been sent up to here. */
  private after: string | null = null;
  private held: Delivery[] = [];
  /** Ids the reads sent, to drop the same notifications arriving live; cleared by the first newer one. */
  private seen: Set<string> | null = null;
  private expiry: NodeJS.Timeout | undefined;

  readonly identity: Identity;
  readonly plan: DelegationPlan;
  private readonly hub: NotificationHub;
  private readonly execute: Execute;
  private readonly log: Logger;
  private readonly onClose: (subscription: NotificationSubscription) => void;
  /** Writes a result to the subscriber's stream (`json`: already serialised, shared by a fan-out). */
  private readonly send: (result: Result, json?: string) => void;

  constructor(
    identity: Identity,
    plan: DelegationPlan,
    hub: NotificationHub,
    execute: Execute,
    log: Logger,
    onClose: (subscription: NotificationSubscription) => void,
    send: (result: Result, json?: string) => void,
    /** When the caller's token expires (ms since the epoch), if it does. */
    expiresAtMs?: number,
  ) {
    this.identity = identity;
    this.plan = plan;
    this.hub = hub;
    this.execute = execute;
    this.log = log;
    this.onClose = onClose;
    this.send = send;
    if (expiresAtMs !== undefined) {
      this.expiry = setTimeout(() => this.end('TOKEN_EXPIRED'), Math.max(0, expiresAtMs - Date.now()));
      this.expiry.unref();
    }
  }

  /** Starts receiving live deliveries, after replaying the caller's feed after `lastEventId` if given. */
  open(lastEventId: string | null): void {
    this.hub.add(this);
    if (lastEventId === null) return;
    this.joining = true;
    this.after = lastEventId;
    void this.round();
  }

  deliver(delivery: Delivery): void {
    if (this.closing) return;
    if (this.joining) {
      this.held.push(delivery);
      if (!this.reading) void this.round();
      return;
    }
    if (this.seen) {
      if (this.seen.has(delivery.id)) return;
      this.seen = null;
    }
    this.push(delivery.result, delivery.json);
  }

  /** Ends with a last result that says why (a GraphQL error with `extensions.reason`). */
  end(reason: EndReason): void {
    if (this.closing) return;
    const code = reason === 'TOKEN_EXPIRED' || reason === 'SESSION_REVOKED' ? 'UNAUTHENTICATED' : 'STREAM_ENDED';
    this.push({ errors: [{ message: END_MESSAGES[reason], extensions: { code, reason } }] });
    this.finish();
  }

  /** No more results: the iterator ends, graphql-sse sends `complete`. */
  private finish(): void {
    this.closing = true;
    this.hub.remove(this);
    this.wake?.();
    this.wake = null;
  }

  /** One read of the caller's feed after `after`, then the join decision on what is held. */
  private async round(): Promise<void> {
    this.reading = true;
    const heldBefore = this.held.length;
    const read = await this.readOwn();
    this.reading = false;
    if (!read || this.closing) return;
    const held = this.held;
    const at = held.findIndex((d) => read.has(d.id));
    if (at >= 0) {
      this.joining = false;
      this.held = [];
      for (const delivery of held.slice(at + 1)) this.deliver(delivery);
      return;
    }
    this.held = held.slice(heldBefore);
    if (this.held.length > 0) void this.round();
  }

  /** Sends the caller's feed after `after` (every page); the ids it sent, or null when it failed (the subscription ends). */
  private async readOwn(): Promise<Set<string> | null> {
    const read = new Set<string>();
    this.seen ??= new Set();
    try {
      for (;;) {
        const answer = await this.execute(this.plan.replayQuery, replayVariables(this.plan, this.after), this.identity);
        const page = answer.data?.[FEED_ALIAS] as { nodes: ReplayNode[]; endCursor: string | null; hasMore: boolean } | null | undefined;
        if (!page) {
          // E.g. a Last-Event-ID that is not a cursor (BAD_USER_INPUT): say so and end.
          this.push({ errors: answer.errors?.length ? answer.errors : [{ message: 'The missed notifications could not be read', extensions: { code: 'SOURCE_UNAVAILABLE' } }] });
          this.finish();
          return null;
        }
        page.nodes.forEach((node, i) => {
          const { [NODE_ID_ALIAS]: id, [NODE_CURSOR_ALIAS]: cursor, ...value } = node;
          const errors = answer.errors
            ?.filter((e) => e.path?.[0] === FEED_ALIAS && e.path[1] === 'nodes' && e.path[2] === i)
            .map((e) => ({ ...e, path: [this.plan.responseKey, ...e.path!.slice(3)] }));
          read.add(id);
          this.seen!.add(id);
          this.push({ data: { [this.plan.responseKey]: value }, ...(errors?.length ? { errors } : {}), extensions: { cursor } });
        });
        this.after = page.endCursor ?? this.after;
        if (!page.hasMore || this.closing) return read;
      }
    } catch (err) {
      this.log.error({ err }, 'reading missed notifications failed');
      this.push({ errors: [{ message: 'The missed notifications could not be read', extensions: { code: 'SOURCE_UNAVAILABLE' } }] });
      this.finish();
      return null;
    }
  }

  private push(result: Result, json?: string): void {
    if (this.closing || this.done) return;
    this.send(result, json);
  }

  /** Yields nothing (results are sent to the stream directly); done when the subscription ends, so graphql-sse completes it. */
  async next(): Promise<IteratorResult<Result, void>> {
    if (!this.closing && !this.done) await new Promise<void>((resolve) => (this.wake = resolve));
    this.close();
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<Result, void>> {
    this.close();
    return { value: undefined, done: true };
  }

  async throw(err: unknown): Promise<IteratorResult<Result, void>> {
    this.close();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.closing = true;
    clearTimeout(this.expiry);
    this.hub.remove(this);
    this.held = [];
    this.wake?.();
    this.wake = null;
    this.onClose(this);
  }
}

const END_MESSAGES: Record<EndReason, string> = {
  TOKEN_EXPIRED: 'The access token has expired; refresh it and subscribe again with Last-Event-ID',
  SESSION_REVOKED: 'The session has ended; sign in again',
  BUFFER_FULL: 'The client read too slowly; reconnect with Last-Event-ID to resume',
  SHUTTING_DOWN: 'This gateway instance is stopping; reconnect with Last-Event-ID to resume',
};

export { END_MESSAGES };
