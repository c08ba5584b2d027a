import type { Logger } from '../../platform/logger.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { leaseFolder, leasePath } from './lake-paths.ts';

/** A lease epoch: who holds the source until when (ms since the epoch; 0 = released). */
interface LeaseRecord {
  owner: string;
  expiresAt: number;
}

/** Thrown when the lease was taken over or could not be renewed in time. */
export class LeaseLost extends Error {
  constructor(source: string) {
    super(`${source}: lease lost; another instance may be projecting this source`);
    this.name = 'LeaseLost';
  }
}

export interface LeaseOptions {
  storage: LakeStorage;
  source: string;
  owner: string;
  ttlMs: number;
  log?: Logger;
  now?: () => number;
}

/**
 * One active consumer per source, with only create-if-absent writes (no compare-and-swap,
 * which a plain folder lacks): the lease is a sequence of epoch files
 * `_leases/<source>/<epoch>.json`, the highest being current. Holding means having
 * created the current epoch; renewing or taking over means creating the next one, so of
 * two contenders exactly one succeeds. A holder that fails to renew before expiry has lost.
 */
export class Lease {
  private epoch = 0;
  private expiresAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private readonly now: () => number;

  private readonly options: LeaseOptions;

  constructor(options: LeaseOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Waits until this instance holds the lease (or `signal` aborts). */
  async acquire(signal?: AbortSignal): Promise<void> {
    const { storage, source, owner, ttlMs, log } = this.options;
    let waitingLogged = false;
    while (!signal?.aborted) {
      const current = await this.current();
      const free = !current || current.record.expiresAt <= this.now() || current.record.owner === owner;
      if (free) {
        const epoch = (current?.epoch ?? 0) + 1;
        const expiresAt = this.now() + ttlMs;
        if (await storage.create(leasePath(source, epoch), JSON.stringify({ owner, expiresAt } satisfies LeaseRecord))) {
          this.epoch = epoch;
          this.expiresAt = expiresAt;
          this.lost = false;
          await this.prune(epoch);
          this.timer = setInterval(() => void this.renew().catch(() => {}), Math.max(250, Math.floor(ttlMs / 3)));
          this.timer.unref();
          log?.info({ source, epoch }, 'lease acquired');
          return;
        }
        continue; // someone else created that epoch first; look again
      }
      if (!waitingLogged) {
        log?.info({ source, holder: current.record.owner }, 'lease held by another instance; waiting');
        waitingLogged = true;
      }
      await sleep(Math.min(1000, Math.max(100, current.record.expiresAt - this.now())), signal);
    }
    throw new Error('aborted while waiting for the lease');
  }

  /** True when the lease is held with at least `marginMs` left; writers check before committing. */
  isHeld(marginMs = 0): boolean {
    return !this.lost && this.epoch > 0 && this.expiresAt - marginMs > this.now();
  }

  /** Throws LeaseLost unless the lease is held with a safety margin. */
  assertHeld(): void {
    if (!this.isHeld(Math.min(2000, this.options.ttlMs / 4))) throw new LeaseLost(this.options.source);
  }

  /** Extends the lease by creating the next epoch. */
  async renew(): Promise<void> {
    if (this.lost || this.epoch === 0) return;
    const { storage, source, owner, ttlMs, log } = this.options;
    const epoch = this.epoch + 1;
    const expiresAt = this.now() + ttlMs;
    if (await storage.create(leasePath(source, epoch), JSON.stringify({ owner, expiresAt } satisfies LeaseRecord))) {
      this.epoch = epoch;
      this.expiresAt = expiresAt;
      await storage.delete(leasePath(source, epoch - 1)).catch(() => {});
    } else {
      this.lost = true;
      log?.warn({ source, epoch }, 'lease taken over by another instance');
    }
  }

  /** Gives the lease up at once, so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost || this.epoch === 0) return;
    const { storage, source, owner } = this.options;
    const epoch = this.epoch + 1;
    this.epoch = 0;
    await storage.create(leasePath(source, epoch), JSON.stringify({ owner, expiresAt: 0 } satisfies LeaseRecord)).catch(() => false);
  }

  private async current(): Promise<{ epoch: number; record: LeaseRecord } | undefined> {
    const { storage, source } = this.options;
    const epochs = (await storage.list(leaseFolder(source)))
      .map((o) => /\/(\d+)\.json$/.exec(o.path))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    for (const epoch of epochs) {
      const body = await storage.get(leasePath(source, epoch));
      if (body) return { epoch, record: JSON.parse(body.toString()) as LeaseRecord };
    }
    return undefined;
  }

  private async prune(keep: number): Promise<void> {
    const { storage, source } = this.options;
    for (const o of await storage.list(leaseFolder(source))) {
      const m = /\/(\d+)\.json$/.exec(o.path);
      if (m && Number(m[1]) < keep) await storage.delete(o.path).catch(() => {});
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
