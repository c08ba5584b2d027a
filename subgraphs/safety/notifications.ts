import { serviceIdentity, type Identity } from '../../platform/auth/identity.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import { subgraphClient } from '../../platform/graphql/subgraph-client.ts';
import type { Logger } from '../../platform/logger.ts';
import type { SafetyEventData } from '../../schema/events/safety.ts';

/**
 * Tells a project's managers about a reported anomaly, through Workforce (which owns
 * notifications and knows who manages what): its `raiseNotification` mutation, as the
 * service identity it accepts (ADMIN, userId `system:...`). Idempotent on `sourceEventId`
 * (the event's id), so the relay's at-least-once delivery notifies once.
 */
export const SAFETY_SERVICE_IDENTITY: Identity = serviceIdentity('safety');

const RAISE = `mutation($input: RaiseNotificationInput!) { raiseNotification(input: $input) { id } }`;

/** Answers Workforce gives when the notification can never be raised (the project is gone): retrying would block the relay forever. */
const PERMANENT = new Set(['BAD_USER_INPUT', 'NOT_FOUND']);

export class NotificationNotRaised extends Error {}

/** The relay's handler: one AnomalyReported event → one raiseNotification call. Throws to be retried. */
export function anomalyNotifier(o: { url: string | null; identitySecret: string; log: Logger; timeoutMs?: number }) {
  const ask = o.url ? subgraphClient({ name: 'workforce', url: o.url, identitySecret: o.identitySecret, log: o.log, timeoutMs: o.timeoutMs }) : null;
  return async function notify(event: RecordedEvent): Promise<void> {
    if (!ask) throw new NotificationNotRaised('ANGELIS_WORKFORCE_URL is unset: anomaly notifications wait in the log');
    const d = event.data as SafetyEventData<'AnomalyReported'>;
    const input = {
      sourceEventId: event.eventId,
      kind: 'ANOMALY_REPORTED',
      title: `${d.severity} anomaly reported`,
      body: d.description.length > 280 ? `${d.description.slice(0, 279)}…` : d.description,
      subjectType: 'Anomaly',
      subjectId: d.anomalyId,
      projectId: d.projectId,
    };
    const answer = await ask<{ raiseNotification: { id: string } | null }>(SAFETY_SERVICE_IDENTITY, RAISE, { input }, event.metadata.correlationId ?? event.eventId);
    const codes = (answer.errors ?? []).map((e) => String(e.extensions?.code ?? ''));
    if (answer.status === 200 && codes.length === 0 && answer.data?.raiseNotification) return;
    if (codes.length > 0 && codes.every((c) => PERMANENT.has(c))) {
      o.log.error({ eventId: event.eventId, anomalyId: d.anomalyId, error: answer.errors?.[0]?.message }, 'Workforce refused the anomaly notification for good; it is skipped');
      return;
    }
    // Includes GRAPHQL_VALIDATION_FAILED: a Workforce without raiseNotification yet; the event waits for it.
    throw new NotificationNotRaised(`raiseNotification failed (${answer.status} ${codes.join(',') || 'no data'}): ${answer.errors?.[0]?.message ?? ''}`);
  };
}
