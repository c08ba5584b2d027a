import { z } from 'zod';
import { defineEvent, uuid } from './contract.ts';

/**
 * Safety & Compliance domain events. Streams: `form-template-<id>` (a template and every
 * version it was published in), `safety-form-<id>` (one submitted form), `anomaly-<id>`
 * (an anomaly and each step of its handling).
 */
const source = 'safety';

const instant = z.string().datetime();
export const fieldTypes = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'CHOICE', 'MULTI_CHOICE'] as const;
export const severities = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const anomalyStatuses = ['OPEN', 'IN_PROGRESS', 'RESOLVED'] as const;

export const templateField = z.object({
  key: z.string(),
  label: z.string(),
  type: z.enum(fieldTypes),
  required: z.boolean(),
  options: z.array(z.string()),
});
export type TemplateField = z.infer<typeof templateField>;

export const answer = z.object({ key: z.string(), value: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]) });
export type Answer = z.infer<typeof answer>;

export const FormTemplatePublished = defineEvent({
  source, type: 'FormTemplatePublished', version: 1,
  description: 'A manager published a version of a form template (version 1 creates it); forms already submitted keep the version they were filled in.',
  data: z.object({
    templateId: uuid, companyId: uuid, templateVersion: z.number().int().positive(), name: z.string(),
    mandatory: z.boolean(), fields: z.array(templateField), publishedAt: instant,
  }),
});
export const SafetyFormSubmitted = defineEvent({
  source, type: 'SafetyFormSubmitted', version: 1,
  description: 'A worker submitted a safety form for a project, its answers valid for the template version it names.',
  data: z.object({
    formId: uuid, templateId: uuid, templateVersion: z.number().int().positive(), projectId: uuid, companyId: uuid,
    profileId: uuid, answers: z.array(answer), submittedAt: instant,
  }),
});
export const AnomalyReported = defineEvent({
  source, type: 'AnomalyReported', version: 1,
  description: "Someone on a project reported an anomaly; the project's managers are notified.",
  data: z.object({
    anomalyId: uuid, projectId: uuid, companyId: uuid, reportedBy: z.string(), reporterProfileId: uuid.nullable(),
    severity: z.enum(severities), description: z.string(), status: z.enum(['OPEN']), occurredAt: instant, reportedAt: instant,
  }),
});
export const AnomalyStatusChanged = defineEvent({
  source, type: 'AnomalyStatusChanged', version: 1,
  description: 'A manager moved an anomaly one step on (OPEN → IN_PROGRESS → RESOLVED), with a note.',
  data: z.object({
    anomalyId: uuid, companyId: uuid, from: z.enum(anomalyStatuses), to: z.enum(anomalyStatuses), note: z.string(),
    changedBy: z.string(), changedAt: instant,
  }),
});

export const safetyEvents = { FormTemplatePublished, SafetyFormSubmitted, AnomalyReported, AnomalyStatusChanged } as const;

type Contracts = typeof safetyEvents;
/** A Safety event as decided by a command: `{ type, data }` typed per contract. */
export type SafetyEvent = {
  [K in keyof Contracts]: { type: K; data: z.infer<Contracts[K]['data']>; subjects?: string[]; version?: number };
}[keyof Contracts];
export type SafetyEventData<K extends keyof Contracts> = z.infer<Contracts[K]['data']>;
