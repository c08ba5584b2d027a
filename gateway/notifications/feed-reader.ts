import { NOTIFICATION_DELIVERY, serviceIdentity, type Identity } from '../../platform/auth/identity.ts';
import type { Logger } from '../../platform/logger.ts';
import type { PubSub } from '../../platform/redis/pubsub.ts';
import type { Execute, FeedNode, NotificationHub } from './hub.ts';

/** Who reads the whole feed: Workforce answers it with every notification and its audience. Never a person's identity. */
export const DELIVERY_PRINCIPAL: Identity = serviceIdentity(NOTIFICATION_DELIVERY);

const PAGE = 100;
const RETRY_FIRST_MS = 20;
const RETRY_MAX_MS = 1_000;
/** A wake-up's cursor not seen in the feed by then is left to the polls. */
const AWAIT_LIMIT_MS = 30_000;
const FEED_PAGE = `query NotificationFeed($after: String, $first: Int) {
  notificationFeed(after: $after, first: $first) { endCursor hasMore nodes { id cursor audience } }
}`;
const FEED_HEAD = `query NotificationFeedHead { notificationFeedHead }`;

export interface FeedReaderOptions {
  /** Read this often without a wake-up (a wake-up lost between commit and publish). */
  pollMs: number;
  /** Read this often while pub/sub is down. */
  degradedPollMs: number;
  /** Told when pub/sub goes down ('degraded') and comes back ('recovered'). */
  onStatus(status: 'degraded' | 'recovered'): void;
}

type FeedPage = { nodes: FeedNode[]; endCursor: string | null; hasMore: boolean };

/**
 * The one reader of the notification feed in a gateway instance: from the feed's end at
 * start, in commit order, woken by the `<prefix>notifications` channel and polling as a
 * fallback (continuously while Redis is down), handing each page to the hub.
 */
export class FeedReader {
  private position: string | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private unwatch: (() => void) | undefined;
  private degraded = false;
  private stopped = false;
  private positioned = false;
  /** Cursors named by wake-ups and not read yet, with when they were first heard of. */
  private readonly awaited = new Map<string, number>();
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;

  private readonly execute: Execute;
  private readonly hub: NotificationHub;
  private readonly pubsub: PubSub;
  private readonly channel: string;
  private readonly options: FeedReaderOptions;
  private readonly log: Logger;

  constructor(
    execute: Execute,
    hub: NotificationHub,
    pubsub: PubSub,
    channel: string,
    options: FeedReaderOptions,
    log: Logger,
  ) {
    this.execute = execute;
    this.hub = hub;
    this.pubsub = pubsub;
    this.channel = channel;
    this.options = options;
    this.log = log;
  }

  /** Finds the feed's end, then listens for wake-ups. */
  async start(): Promise<void> {
    this.unwatch = this.pubsub.onStatus((status) => this.setDegraded(status === 'down'));
    try {
      this.unsubscribe = await this.pubsub.subscribe(this.channel, (message) => this.onWakeUp(message));
    } catch (err) {
      this.log.warn({ err }, 'notifications: cannot subscribe to wake-ups; polling the feed');
      this.setDegraded(true);
    }
    await this.findEnd();
    this.schedule();
  }

  /**
   * Live delivery starts at the feed's end: what came before is replayed only on request
   * (Last-Event-ID). Until the end is known (Workforce unreachable at start) nothing is
   * delivered; the polls try again.
   */
  private async findEnd(): Promise<void> {
    try {
      // One indexed read of the feed's last cursor (null: the feed is empty), not a walk through it.
      const answer = await this.execute(FEED_HEAD, {}, DELIVERY_PRINCIPAL);
      const head = answer.data?.notificationFeedHead;
      if (answer.errors?.length || (head !== null && typeof head !== 'string')) throw new Error(`notificationFeedHead answered ${JSON.stringify(answer.errors ?? null)}`);
      this.position = head;
      this.positioned = true;
    } catch (err) {
      this.log.warn({ err }, 'notifications: cannot find the end of the feed yet; retrying');
    }
  }

  get isDegraded(): boolean {
    return this.degraded;
  }

  /**
   * A wake-up names the highest cursor its commit created. The feed shows a commit only
   * once every transaction older than it has ended (its xmin horizon, server-wide), so a
   * read right after the wake-up may not reach it yet: until it does, read again soon
   * (backing off) rather than waiting for the next poll.
   */
  private onWakeUp(message: string): void {
    try {
      const { cursor } = JSON.parse(message) as { cursor?: unknown };
      if (typeof cursor === 'string' && this.awaited.size < 1_000) this.awaited.set(cursor, Date.now());
    } catch {
      // Not ours to judge: a wake-up is a wake-up.
    }
    this.wake();
  }

  private retryAwaited(): void {
    const now = Date.now();
    for (const [cursor, since] of this.awaited) if (now - since > AWAIT_LIMIT_MS || cursor === this.position) this.awaited.delete(cursor);
    clearTimeout(this.retry);
    if (this.awaited.size === 0 || this.stopped) {
      this.retryMs = RETRY_FIRST_MS;
      return;
    }
    this.retry = setTimeout(() => this.wake(), this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Reads what was committed after the position; a wake-up while reading reads again after. */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readAll().finally(() => {
      this.reading = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      } else this.retryAwaited();
    });
  }

  private async readAll(): Promise<void> {
    if (!this.positioned) return this.findEnd();
    try {
      for (;;) {
        const page = await this.page(this.position, PAGE);
        for (const node of page.nodes) this.awaited.delete(node.cursor);
        if (page.nodes.length > 0) await this.hub.dispatch(page.nodes);
        this.position = page.endCursor ?? this.position;
        if (!page.hasMore || this.stopped) return;
      }
    } catch (err) {
      // Workforce unreachable: the next wake-up or poll tries again from the same position.
      this.log.warn({ err }, 'notifications: reading the feed failed');
    }
  }

  private async page(after: string | null, first: number): Promise<FeedPage> {
    const answer = await this.execute(FEED_PAGE, { after, first }, DELIVERY_PRINCIPAL);
    const page = answer.data?.notificationFeed as FeedPage | null | undefined;
    if (!page) throw new Error(`notificationFeed answered ${JSON.stringify(answer.errors ?? null)}`);
    return page;
  }

  private setDegraded(down: boolean): void {
    if (down === this.degraded || this.stopped) return;
    this.degraded = down;
    this.hub.degraded = down;
    this.log.warn({ degraded: down }, down ? 'notifications: Redis pub/sub is down; polling the feed' : 'notifications: Redis pub/sub is back');
    this.options.onStatus(down ? 'degraded' : 'recovered');
    // What was committed while the wake-ups were lost.
    if (!down) this.wake();
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.wake();
      this.schedule();
    }, this.degraded ? this.options.degradedPollMs : this.options.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    this.unwatch?.();
    await this.unsubscribe?.().catch(() => {});
    await this.reading;
  }
}
