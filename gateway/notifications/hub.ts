import type { GraphQLFormattedError } from 'graphql';
import type { Identity } from '../../platform/auth/identity.ts';
import type { Logger } from '../../platform/logger.ts';
import { audienceEntries, liveVariables, permissionScope, type DelegationPlan } from './delegation.ts';

/** Runs an operation through this gateway in-process, as `identity`. */
export type Execute = (query: string, variables: Record<string, unknown>, identity: Identity) => Promise<{ data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] }>;

/** A notification as the delivery principal reads it from the feed. */
export interface FeedNode {
  id: string;
  cursor: string;
  audience: string[];
}

/** One result a subscriber receives: the subscription's data, any errors, and the cursor in extensions. */
export interface Delivery {
  id: string;
  cursor: string;
  /** `result` serialised once for every recipient. */
  json: string;
  result: { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[]; extensions: { cursor: string; degraded?: true } };
}

/** What the hub needs of an open subscription. */
export interface Recipient {
  identity: Identity;
  plan: DelegationPlan;
  deliver(delivery: Delivery): void;
}

/**
 * The open subscriptions of this gateway instance, indexed by the audience entries they
 * answer to, and the fan-out of a page of the feed: one delegated federated query per
 * (notification, selection, permission scope), its answer shared by every recipient
 * with that key, delivered to each in feed order.
 */
export class NotificationHub {
  private readonly byEntry = new Map<string, Set<Recipient>>();
  /** Delegated live queries issued (what the benchmark and the sharing test count). */
  delegatedQueries = 0;
  degraded = false;

  private readonly execute: Execute;
  private readonly log: Logger;

  constructor(
    execute: Execute,
    log: Logger,
  ) {
    this.execute = execute;
    this.log = log;
  }

  get size(): number {
    const all = new Set<Recipient>();
    for (const set of this.byEntry.values()) for (const r of set) all.add(r);
    return all.size;
  }

  add(recipient: Recipient): void {
    for (const entry of audienceEntries(recipient.identity)) {
      let set = this.byEntry.get(entry);
      if (!set) this.byEntry.set(entry, (set = new Set()));
      set.add(recipient);
    }
  }

  remove(recipient: Recipient): void {
    for (const entry of audienceEntries(recipient.identity)) {
      const set = this.byEntry.get(entry);
      if (set?.delete(recipient) && set.size === 0) this.byEntry.delete(entry);
    }
  }

  /** Delivers a page of the feed (oldest first): queries run concurrently, deliveries keep feed order. */
  async dispatch(nodes: FeedNode[]): Promise<void> {
    const planned = nodes.map((node) => ({ node, groups: this.groupsFor(node) }));
    for (const { node, groups } of planned) {
      for (const group of groups) {
        const answer = await group.answer;
        const value = answer.data?.[group.plan.responseKey];
        // Not visible to this scope after all (e.g. deleted or re-addressed): nothing to say.
        if (value == null && !answer.errors?.length) continue;
        const result: Delivery['result'] = {
          ...(value != null ? { data: { [group.plan.responseKey]: value } } : { data: null }),
          ...(answer.errors?.length ? { errors: answer.errors } : {}),
          extensions: this.degraded ? { cursor: node.cursor, degraded: true } : { cursor: node.cursor },
        };
        const delivery: Delivery = { id: node.id, cursor: node.cursor, json: JSON.stringify(result), result };
        for (const recipient of group.recipients) recipient.deliver(delivery);
      }
    }
  }

  private groupsFor(node: FeedNode) {
    const recipients = new Set<Recipient>();
    for (const entry of node.audience) for (const r of this.byEntry.get(entry) ?? []) recipients.add(r);
    const groups = new Map<string, { plan: DelegationPlan; recipients: Recipient[]; answer: ReturnType<Execute> }>();
    for (const r of recipients) {
      const byName = node.audience.includes(`user:${r.identity.userId}`);
      const key = `${r.plan.key}\n${permissionScope(r.identity, r.plan.perReader || byName)}`;
      const group = groups.get(key);
      if (group) group.recipients.push(r);
      else {
        this.delegatedQueries++;
        groups.set(key, { plan: r.plan, recipients: [r], answer: this.execute(r.plan.liveQuery, liveVariables(r.plan, node.id), r.identity).catch((err) => {
            this.log.error({ err, notification: node.id }, 'a delegated notification query failed');
            return { errors: [{ message: 'The notification could not be resolved', extensions: { code: 'SOURCE_UNAVAILABLE' } }] };
          }),
        });
      }
    }
    return [...groups.values()];
  }
}
