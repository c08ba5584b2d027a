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
 * One subscriber's `notificationAdded`: an async generator graphql-sse drains into the
 * stream. With a Last-Event-ID it first replays the caller's own feed after that cursor
 * (as the caller, with its selection), holding live deliveries meanwhile; then it lets
 * through the live ones the replay did not already contain: no duplicates, no gaps,
 * feed order.
 */
export class NotificationSubscription implements Recipient, AsyncGenerator<Result, void, undefined> {
  private readonly queue: Result[] = [];
  private wake: (() => void) | null = null;
  private closing = false;
  private done = false;
  private replaying = false;
  private held: Delivery[] = [];
  /** Ids the replay sent, to drop the same notifications arriving live; cleared by the first newer one. */
  private replayed: Set<string> | null = null;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    readonly identity: Identity,
    readonly plan: DelegationPlan,
    private readonly hub: NotificationHub,
    private readonly execute: Execute,
    private readonly log: Logger,
    private readonly onClose: (subscription: NotificationSubscription) => void,
    /** When the caller's token expires (ms since the epoch), if it does. */
    expiresAtMs?: number,
  ) {
    if (expiresAtMs !== undefined) {
      this.expiry = setTimeout(() => this.end('TOKEN_EXPIRED'), Math.max(0, expiresAtMs - Date.now()));
      this.expiry.unref();
    }
  }

  /** Starts receiving live deliveries, after replaying the caller's feed after `lastEventId` if given. */
  open(lastEventId: string | null): void {
    this.replaying = lastEventId !== null;
    this.hub.add(this);
    if (lastEventId !== null) void this.replay(lastEventId);
  }

  deliver(delivery: Delivery): void {
    if (this.closing) return;
    if (this.replaying) return void this.held.push(delivery);
    if (this.replayed) {
      if (this.replayed.has(delivery.id)) return;
      this.replayed = null;
    }
    this.push(delivery.result);
  }

  /** Ends with a last result that says why (a GraphQL error with `extensions.reason`). */
  end(reason: EndReason): void {
    if (this.closing) return;
    const code = reason === 'TOKEN_EXPIRED' || reason === 'SESSION_REVOKED' ? 'UNAUTHENTICATED' : 'STREAM_ENDED';
    this.push({ errors: [{ message: END_MESSAGES[reason], extensions: { code, reason } }] });
    this.closing = true;
    this.hub.remove(this);
  }

  private async replay(after: string | null): Promise<void> {
    const replayed = new Set<string>();
    try {
      for (;;) {
        const answer = await this.execute(this.plan.replayQuery, replayVariables(this.plan, after), this.identity);
        const page = answer.data?.[FEED_ALIAS] as { nodes: ReplayNode[]; endCursor: string | null; hasMore: boolean } | null | undefined;
        if (!page) {
          // E.g. a Last-Event-ID that is not a cursor (BAD_USER_INPUT): say so and end.
          this.push({ errors: answer.errors?.length ? answer.errors : [{ message: 'The missed notifications could not be read', extensions: { code: 'SOURCE_UNAVAILABLE' } }] });
          this.closing = true;
          this.hub.remove(this);
          return;
        }
        page.nodes.forEach((node, i) => {
          if (this.closing) return;
          const { [NODE_ID_ALIAS]: id, [NODE_CURSOR_ALIAS]: cursor, ...value } = node;
          const errors = answer.errors
            ?.filter((e) => e.path?.[0] === FEED_ALIAS && e.path[1] === 'nodes' && e.path[2] === i)
            .map((e) => ({ ...e, path: [this.plan.responseKey, ...e.path!.slice(3)] }));
          replayed.add(id);
          this.push({ data: { [this.plan.responseKey]: value }, ...(errors?.length ? { errors } : {}), extensions: { cursor } });
        });
        after = page.endCursor;
        if (!page.hasMore || this.closing) break;
      }
    } catch (err) {
      this.log.error({ err }, 'replaying missed notifications failed');
      this.push({ errors: [{ message: 'The missed notifications could not be read', extensions: { code: 'SOURCE_UNAVAILABLE' } }] });
      this.closing = true;
      this.hub.remove(this);
      return;
    }
    // Live ones that arrived meanwhile: those the replay already had are dropped.
    this.replaying = false;
    this.replayed = replayed;
    const held = this.held;
    this.held = [];
    for (const delivery of held) this.deliver(delivery);
  }

  private push(result: Result): void {
    if (this.closing || this.done) return;
    this.queue.push(result);
    this.wake?.();
    this.wake = null;
  }

  async next(): Promise<IteratorResult<Result, void>> {
    for (;;) {
      if (this.queue.length) return { value: this.queue.shift()!, done: false };
      if (this.closing || this.done) {
        this.close();
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
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
    this.queue.length = 0;
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
