import { addDays, todayUtc } from '../../platform/domain/input.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { notificationsChannel, type PubSub } from '../../platform/redis/pubsub.ts';
import type { WorkforceCommands } from './commands.ts';
import { encodeNotificationCursor, notificationStore } from './store/notifications.ts';

/** The widest licence notice, in days before expiry. */
const LICENSE_WINDOW_DAYS = 30;
/** Licences looked at per scan step. */
const SCAN_PAGE = 200;
/** Events whose projection may derive a notification with the event's id (store/projection.ts). */
const NOTIFYING_EVENTS = new Set(['ProfileAssigned', 'ProfileHired']);

export interface WorkforceNotificationsOptions {
  commands: WorkforceCommands;
  db: Db;
  log: Logger;
  pubsub: PubSub;
  /** Key prefix shared with the gateway (`angelis:` by default). */
  prefix: string;
  /** The clock the licence check judges "today" by (tests move it). */
  now: () => Date;
}

/**
 * Workforce's notification machinery outside requests:
 * - after a commit that raised notifications, one wake-up `{"cursor": "<highest>"}` on
 *   `<prefix>notifications` (the gateway then reads the feed; a lost wake-up is covered by
 *   its polling, so publishing failures are only logged);
 * - the licence check: licences expiring within 30 days, then within 7, each notice raised
 *   once per licence, expiry date and threshold however many instances run it (the
 *   notice's stream can be appended to only once: see domain/notification.ts).
 */
export class WorkforceNotifications {
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<number> | null = null;
  /** Wake-ups go out one after another, in commit order. */
  private publishing: Promise<void> = Promise.resolve();

  private readonly o: WorkforceNotificationsOptions;

  constructor(o: WorkforceNotificationsOptions) {
    this.o = o;
  }

  /**
   * A post-commit listener (CommandHandler.onCommit): when the commit created notifications,
   * publishes the wake-up with the highest cursor it committed. Which events created one is
   * asked of the read table (a hire creates one only when it crosses the seats threshold).
   */
  readonly onCommit = (events: RecordedEvent[]): void => {
    const ids = events.flatMap((e) => {
      if (e.type === 'NotificationRaised') return [(e.data as { notificationId: string }).notificationId];
      return NOTIFYING_EVENTS.has(e.type) ? [e.eventId] : [];
    });
    if (ids.length === 0) return;
    this.publishing = this.publishing
      .then(async () => {
        const highest = await notificationStore.highest(this.o.db.pool, ids);
        if (!highest) return;
        const cursor = encodeNotificationCursor(highest);
        await this.o.pubsub.publish(notificationsChannel(this.o.prefix), JSON.stringify({ cursor }));
      })
      .catch((err) => this.o.log.warn({ err }, 'could not publish the notifications wake-up (the gateway polls the feed)'));
  };

  /**
   * Raises every licence expiry notice due today; returns how many this call raised (those
   * another instance raised first are not counted). One scan at a time per instance.
   */
  scanLicenses(): Promise<number> {
    this.scanning ??= this.scan().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async scan(): Promise<number> {
    const today = todayUtc(this.o.now());
    const ctx = { actor: { id: 'system:notifications-scan', kind: 'system' as const }, correlationId: `license-scan-${today}` };
    let raised = 0;
    // Each pass leaves out what is raised by now, so it ends; a notice that keeps failing stops the scan (and is logged).
    for (;;) {
      const due = await notificationStore.dueLicenses(this.o.db.pool, today, addDays(today, LICENSE_WINDOW_DAYS), SCAN_PAGE);
      if (due.length === 0) return raised;
      const results = await Promise.all(due.map((d) => this.o.commands.raiseLicenseExpiring(ctx, d)));
      raised += results.filter(Boolean).length;
      if (due.length < SCAN_PAGE) return raised;
    }
  }

  /** Runs the licence check now (shortly after boot) and then every `intervalMs`; 0 turns it off. */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    const tick = () => {
      this.scanLicenses().catch((err) => this.o.log.error({ err }, 'licence expiry check failed'));
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    setTimeout(tick, Math.min(intervalMs, 1_000)).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.scanning?.catch(() => {});
    await this.publishing;
  }
}
