import DataLoader from 'dataloader';
import type { AuditFilter, EventStore } from '../event-store/port.ts';
import type { RecordedEvent } from '../event-store/types.ts';
import { perArgs } from './loaders.ts';
import { toConnection, toPage, type Connection, type Page, type PageArgs } from './pagination.ts';

/**
 * The audit trail, written once for every domain: who did what, when, read from the events
 * (not a second table). A domain decides whether a caller may read an entity's trail and
 * which entries (an AuditFilter, applied in the query); this does the rest.
 */

/** Per-request loaders: one query per batch of entities, per page and filter. */
export function auditTrailLoaders(store: Pick<EventStore, 'readBySubjects'>) {
  return perArgs((a: { page: Page; filter: AuditFilter | null }) =>
    new DataLoader<string, RecordedEvent[]>(async (ids) => {
      const found = await store.readBySubjects(ids, a.page.afterPosition, a.page.limit + 1, a.filter);
      return ids.map((id) => found.get(id) ?? []);
    }),
  );
}

export type AuditTrailLoaders = ReturnType<typeof auditTrailLoaders>;

/** A page of an entity's trail (the AuditEntryConnection of the SDL), oldest first. */
export async function auditTrailPage(loaders: AuditTrailLoaders, entityId: string, args: PageArgs, filter: AuditFilter | null): Promise<Connection<RecordedEvent & { position: number }>> {
  const page = toPage(args);
  const events = await loaders({ page, filter }).load(entityId);
  return toConnection(events.map((e) => ({ ...e, position: e.globalPosition })), page);
}

/**
 * Resolvers of the AuditEntry type every domain's SDL declares (shareable, identical).
 * `redact` drops what must never be shown from an event's data (secrets).
 */
export function auditEntryResolvers(redact: (data: Record<string, unknown>) => Record<string, unknown> = (d) => d) {
  return {
    position: (e: RecordedEvent) => String(e.globalPosition),
    action: (e: RecordedEvent) => e.type,
    actorId: (e: RecordedEvent) => e.metadata.actor.id,
    actorKind: (e: RecordedEvent) => e.metadata.actor.kind,
    correlationId: (e: RecordedEvent) => e.metadata.correlationId ?? null,
    data: (e: RecordedEvent) => redact(e.data as Record<string, unknown>),
  };
}
