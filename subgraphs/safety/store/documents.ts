import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { Answer, SafetyEvent, SafetyEventData, TemplateField } from '../../../schema/events/safety.ts';
import type { AnomalyStatus } from '../domain/anomaly.ts';

/**
 * Safety's read documents, one per template, form and anomaly, written from the events by
 * one pure function (`applyEvent`) whatever store holds them: the PostgreSQL adapter keeps
 * them as jsonb, the MongoDB adapter as documents. `position` is the global position of the
 * event that created the document: unique, increasing, the keyset lists page on.
 */
export type DocumentKind = 'template' | 'form' | 'anomaly';

export interface TemplateVersionDoc {
  templateVersion: number;
  name: string;
  mandatory: boolean;
  fields: TemplateField[];
  publishedAt: string;
}
export interface TemplateDoc {
  id: string;
  companyId: string;
  name: string;
  mandatory: boolean;
  latestVersion: number;
  versions: TemplateVersionDoc[];
  createdAt: string;
  updatedAt: string;
  streamVersion: number;
  position: number;
}
export interface FormDoc {
  id: string;
  templateId: string;
  templateVersion: number;
  projectId: string;
  companyId: string;
  profileId: string;
  answers: Answer[];
  submittedAt: string;
  position: number;
}
export interface AnomalyStepDoc {
  from: AnomalyStatus;
  to: AnomalyStatus;
  note: string;
  changedBy: string;
  changedAt: string;
}
export interface AnomalyDoc {
  id: string;
  projectId: string;
  companyId: string;
  reportedBy: string;
  reporterProfileId: string | null;
  severity: string;
  description: string;
  status: AnomalyStatus;
  occurredAt: string;
  reportedAt: string;
  resolvedAt: string | null;
  steps: AnomalyStepDoc[];
  streamVersion: number;
  position: number;
}
export interface DocumentOf {
  template: TemplateDoc;
  form: FormDoc;
  anomaly: AnomalyDoc;
}
export type AnyDocument = TemplateDoc | FormDoc | AnomalyDoc;

/** Which document an event writes. */
export function documentOf(event: RecordedEvent): { kind: DocumentKind; id: string } | null {
  const e = event as RecordedEvent<SafetyEvent>;
  switch (e.type) {
    case 'FormTemplatePublished':
      return { kind: 'template', id: (e.data as SafetyEventData<'FormTemplatePublished'>).templateId };
    case 'SafetyFormSubmitted':
      return { kind: 'form', id: (e.data as SafetyEventData<'SafetyFormSubmitted'>).formId };
    case 'AnomalyReported':
    case 'AnomalyStatusChanged':
      return { kind: 'anomaly', id: (e.data as { anomalyId: string }).anomalyId };
    default:
      return null;
  }
}

/** The document after `event` (the current one, or null before the first event). Pure. */
export function applyEvent(current: AnyDocument | null, event: RecordedEvent): AnyDocument {
  const e = event as RecordedEvent<SafetyEvent>;
  switch (e.type) {
    case 'FormTemplatePublished': {
      const d = e.data as SafetyEventData<'FormTemplatePublished'>;
      const prev = current as TemplateDoc | null;
      const version: TemplateVersionDoc = { templateVersion: d.templateVersion, name: d.name, mandatory: d.mandatory, fields: d.fields, publishedAt: d.publishedAt };
      return {
        id: d.templateId,
        companyId: d.companyId,
        name: d.name,
        mandatory: d.mandatory,
        latestVersion: d.templateVersion,
        versions: [...(prev?.versions ?? []), version],
        createdAt: prev?.createdAt ?? d.publishedAt,
        updatedAt: d.publishedAt,
        streamVersion: e.streamVersion,
        position: prev?.position ?? e.globalPosition,
      };
    }
    case 'SafetyFormSubmitted': {
      const d = e.data as SafetyEventData<'SafetyFormSubmitted'>;
      return { id: d.formId, templateId: d.templateId, templateVersion: d.templateVersion, projectId: d.projectId, companyId: d.companyId, profileId: d.profileId, answers: d.answers, submittedAt: d.submittedAt, position: e.globalPosition };
    }
    case 'AnomalyReported': {
      const d = e.data as SafetyEventData<'AnomalyReported'>;
      return {
        id: d.anomalyId, projectId: d.projectId, companyId: d.companyId, reportedBy: d.reportedBy, reporterProfileId: d.reporterProfileId,
        severity: d.severity, description: d.description, status: d.status, occurredAt: d.occurredAt, reportedAt: d.reportedAt,
        resolvedAt: null, steps: [], streamVersion: e.streamVersion, position: e.globalPosition,
      };
    }
    case 'AnomalyStatusChanged': {
      const d = e.data as SafetyEventData<'AnomalyStatusChanged'>;
      const prev = current as AnomalyDoc | null;
      if (!prev) throw new Error(`AnomalyStatusChanged for ${d.anomalyId} before it was reported`);
      return {
        ...prev,
        status: d.to,
        resolvedAt: d.to === 'RESOLVED' ? d.changedAt : prev.resolvedAt,
        steps: [...prev.steps, { from: d.from, to: d.to, note: d.note, changedBy: d.changedBy, changedAt: d.changedAt }],
        streamVersion: e.streamVersion,
      };
    }
  }
}

/** Another subgraph's entity, by key: the gateway fetches its other fields from its owner. */
export interface EntityRef {
  id: string;
}
