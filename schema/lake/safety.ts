import { safetyEvents } from '../events/safety.ts';
import { defineLakeTable, type LakeSource, type LakeTable } from './contract.ts';

/**
 * Safety lake tables: typed change rows fed by the events in schema/events/safety.ts. Raw
 * events (with the template fields and form answers as JSON) land beside them as for every
 * source; the typed tables keep the columns analysts filter and join on.
 */
const source = 'safety';

export const formTemplates = defineLakeTable({
  name: 'form_templates', source, description: 'Safety form templates, one row per published version.',
  key: ['template_id', 'template_version'],
  columns: {
    template_id: { type: 'VARCHAR' }, template_version: { type: 'BIGINT' }, company_id: { type: 'VARCHAR' },
    name: { type: 'VARCHAR' }, mandatory: { type: 'BOOLEAN' }, published_at: { type: 'TIMESTAMP' },
  },
  events: {
    FormTemplatePublished: {
      op: 'upsert',
      set: {
        template_id: 'templateId', template_version: 'templateVersion', company_id: 'companyId', name: 'name',
        mandatory: 'mandatory', published_at: 'publishedAt',
      },
    },
  },
});

export const safetyForms = defineLakeTable({
  name: 'safety_forms', source, description: 'Submitted safety forms (answers are in the raw events).', key: ['form_id'],
  columns: {
    form_id: { type: 'VARCHAR' }, template_id: { type: 'VARCHAR' }, template_version: { type: 'BIGINT' },
    project_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' }, profile_id: { type: 'VARCHAR' }, submitted_at: { type: 'TIMESTAMP' },
  },
  events: {
    SafetyFormSubmitted: {
      op: 'upsert',
      set: {
        form_id: 'formId', template_id: 'templateId', template_version: 'templateVersion', project_id: 'projectId',
        company_id: 'companyId', profile_id: 'profileId', submitted_at: 'submittedAt',
      },
    },
  },
});

export const anomalies = defineLakeTable({
  name: 'anomalies', source, description: 'Anomalies reported on projects and where their handling stands.', key: ['anomaly_id'],
  columns: {
    anomaly_id: { type: 'VARCHAR' }, project_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' },
    reported_by: { type: 'VARCHAR' }, severity: { type: 'VARCHAR' }, description: { type: 'VARCHAR' },
    occurred_at: { type: 'TIMESTAMP' }, reported_at: { type: 'TIMESTAMP' }, status: { type: 'VARCHAR' },
    status_note: { type: 'VARCHAR' }, status_changed_at: { type: 'TIMESTAMP' },
  },
  events: {
    AnomalyReported: {
      op: 'upsert',
      set: {
        anomaly_id: 'anomalyId', project_id: 'projectId', company_id: 'companyId', reported_by: 'reportedBy',
        severity: 'severity', description: 'description', status: 'status', occurred_at: 'occurredAt', reported_at: 'reportedAt',
      },
    },
    AnomalyStatusChanged: {
      op: 'upsert', set: { anomaly_id: 'anomalyId', status: 'to', status_note: 'note', status_changed_at: 'changedAt' },
    },
  },
});

/** Every Safety lake table. */
export const safetyLakeTables: LakeTable[] = [formTemplates, safetyForms, anomalies];

/** Safety as a lake source: its events and the tables they feed. */
export const safetyLakeSource: LakeSource = { name: 'safety', events: safetyEvents, tables: safetyLakeTables };
