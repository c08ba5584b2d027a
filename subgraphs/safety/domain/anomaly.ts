import { BadUserInputError, ConflictError, NotFoundError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { anomalyStatuses, severities, type SafetyEvent } from '../../../schema/events/safety.ts';

/** The Anomaly aggregate (stream `anomaly-<id>`): reported, then handled one step at a time. */
export type AnomalyStatus = (typeof anomalyStatuses)[number];
export interface AnomalyState {
  anomalyId: string | null;
  companyId: string | null;
  status: AnomalyStatus | null;
}

export const anomalyStream = (anomalyId: string) => `anomaly-${anomalyId}`;

export const MAX_DESCRIPTION = 2000;
export const MAX_NOTE = 1000;
/** The only step each status may take. */
const NEXT: Record<AnomalyStatus, AnomalyStatus | null> = { OPEN: 'IN_PROGRESS', IN_PROGRESS: 'RESOLVED', RESOLVED: null };

export const anomaly = {
  initialState: (): AnomalyState => ({ anomalyId: null, companyId: null, status: null }),
  evolve: (state: AnomalyState, event: RecordedEvent<SafetyEvent>): AnomalyState => {
    if (event.type === 'AnomalyReported') {
      const d = event.data as { anomalyId: string; companyId: string };
      return { anomalyId: d.anomalyId, companyId: d.companyId, status: 'OPEN' };
    }
    if (event.type === 'AnomalyStatusChanged') return { ...state, status: (event.data as { to: AnomalyStatus }).to };
    return state;
  },
};

/** An instant given by a caller (ISO-8601 with a zone), not in the future. */
function pastInstant(value: unknown, field: string, now: Date): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new BadUserInputError(`${field} must be an ISO-8601 instant such as 2026-11-27T08:47:00Z`, field);
  }
  const at = new Date(value);
  // A minute of slack for clocks that disagree a little.
  if (at.getTime() > now.getTime() + 60_000) throw new BadUserInputError(`${field} must not be in the future`, field);
  if (at.getUTCFullYear() < 1900) throw new BadUserInputError(`${field} is too far in the past`, field);
  return at.toISOString();
}

export const decideAnomaly = {
  report(
    state: AnomalyState,
    cmd: {
      anomalyId: string;
      projectId: string;
      companyId: string;
      reportedBy: string;
      reporterProfileId: string | null;
      severity: unknown;
      description: unknown;
      occurredAt?: unknown;
      now: Date;
    },
  ): SafetyEvent[] {
    if (state.anomalyId !== null) throw new ConflictError(`Anomaly ${cmd.anomalyId} was already reported`);
    if (!severities.includes(cmd.severity as never)) throw new BadUserInputError(`severity must be one of ${severities.join(', ')}`, 'severity');
    return [
      {
        type: 'AnomalyReported',
        data: {
          anomalyId: cmd.anomalyId,
          projectId: cmd.projectId,
          companyId: cmd.companyId,
          reportedBy: cmd.reportedBy,
          reporterProfileId: cmd.reporterProfileId,
          severity: cmd.severity as (typeof severities)[number],
          description: input.text(cmd.description, 'description', MAX_DESCRIPTION),
          status: 'OPEN',
          occurredAt: cmd.occurredAt == null ? cmd.now.toISOString() : pastInstant(cmd.occurredAt, 'occurredAt', cmd.now),
          reportedAt: cmd.now.toISOString(),
        },
      },
    ];
  },

  /** One step on (OPEN → IN_PROGRESS → RESOLVED), with a note; skipping a step or going back is refused. */
  changeStatus(state: AnomalyState, cmd: { anomalyId: string; to: unknown; note: unknown; changedBy: string; now: Date }): SafetyEvent[] {
    if (state.anomalyId === null || state.status === null || state.companyId === null) throw new NotFoundError('Anomaly', cmd.anomalyId);
    if (!anomalyStatuses.includes(cmd.to as never)) throw new BadUserInputError(`status must be one of ${anomalyStatuses.join(', ')}`, 'status');
    const next = NEXT[state.status];
    if (next === null || cmd.to !== next) {
      throw new BadUserInputError(
        next ? `an ${state.status} anomaly can only move to ${next}, not ${String(cmd.to)}` : `a ${state.status} anomaly is closed; it cannot move to ${String(cmd.to)}`,
        'status',
      );
    }
    return [
      {
        type: 'AnomalyStatusChanged',
        data: {
          anomalyId: cmd.anomalyId,
          companyId: state.companyId,
          from: state.status,
          to: next,
          note: input.text(cmd.note, 'note', MAX_NOTE),
          changedBy: cmd.changedBy,
          changedAt: cmd.now.toISOString(),
        },
      },
    ];
  },
};
