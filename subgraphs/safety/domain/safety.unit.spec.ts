import { describe, expect, it } from 'vitest';
import { deciderSpec, given } from '../../../platform/testing/decider.ts';
import type { TemplateField } from '../../../schema/events/safety.ts';
import { anomaly, decideAnomaly, MAX_NOTE } from './anomaly.ts';
import { decideForm, form, validateAnswers } from './form.ts';
import { decideTemplate, template } from './template.ts';

const T = '00000000-0000-4000-8000-0000000000a1';
const C = '00000000-0000-4000-8000-0000000000c1';
const OTHER = '00000000-0000-4000-8000-0000000000c2';
const P = '00000000-0000-4000-8000-0000000000b1';
const W = '00000000-0000-4000-8000-0000000000d1';
const A = '00000000-0000-4000-8000-0000000000e1';
const F = '00000000-0000-4000-8000-0000000000f1';
const now = new Date('2026-06-15T12:00:00Z');

const fields: TemplateField[] = [
  { key: 'ppe', label: 'PPE worn', type: 'BOOLEAN', required: true, options: [] },
  { key: 'hours', label: 'Hours', type: 'NUMBER', required: false, options: [] },
  { key: 'shift', label: 'Shift', type: 'CHOICE', required: true, options: ['DAY', 'NIGHT'] },
  { key: 'hazards', label: 'Hazards', type: 'MULTI_CHOICE', required: false, options: ['DUST', 'NOISE', 'HEIGHT'] },
  { key: 'day', label: 'Day', type: 'DATE', required: false, options: [] },
  { key: 'notes', label: 'Notes', type: 'TEXT', required: false, options: [] },
];
const publish = (cmd: Partial<Parameters<typeof decideTemplate.publish>[1]> = {}) => (s: ReturnType<typeof template.initialState>) =>
  decideTemplate.publish(s, { templateId: T, companyId: C, name: 'Daily check', mandatory: true, fields, now, isNew: true, ...cmd });

describe('FormTemplate', () => {
  const spec = deciderSpec(template);
  it('publishes version 1, then version 2 of the same template', () => {
    const [v1] = spec.given().when(publish()).then((events) => expect(events[0].data).toMatchObject({ templateVersion: 1, mandatory: true, fields }));
    spec.given(v1).when(publish({ isNew: false, fields: fields.slice(0, 1) })).then((events) => expect(events[0].data).toMatchObject({ templateVersion: 2, fields: fields.slice(0, 1) }));
  });

  it('refuses bad fields, a new version of an unknown template, and a version under another company', () => {
    const spec0 = spec.given();
    spec0.when(publish({ fields: [] })).thenRefuses('BAD_USER_INPUT', 'fields');
    spec0.when(publish({ fields: [fields[0], fields[0]] })).thenRefuses('BAD_USER_INPUT', 'fields[1].key');
    spec0.when(publish({ fields: [{ ...fields[2], options: ['ONLY'] }] })).thenRefuses('BAD_USER_INPUT', 'fields[0].options');
    spec0.when(publish({ fields: [{ ...fields[0], options: ['X', 'Y'] }] })).thenRefuses('BAD_USER_INPUT', 'fields[0].options');
    spec0.when(publish({ fields: [{ ...fields[0], type: 'FILE' as never }] })).thenRefuses('BAD_USER_INPUT', 'fields[0].type');
    spec0.when(publish({ fields: [{ ...fields[0], key: 'Bad Key' }] })).thenRefuses('BAD_USER_INPUT', 'fields[0].key');
    spec0.when(publish({ isNew: false })).thenRefuses('BAD_USER_INPUT', 'templateId');
    const [v1] = publish()(template.initialState());
    spec.given(v1).when(publish({ isNew: false, companyId: OTHER })).thenRefuses('BAD_USER_INPUT', 'companyId');
    spec.given(v1).when(publish()).thenRefuses('CONFLICT');
  });
});

describe('SafetyForm answers', () => {
  const ok = [
    { key: 'ppe', value: true },
    { key: 'shift', value: 'NIGHT' },
    { key: 'hazards', value: ['DUST', 'HEIGHT'] },
    { key: 'hours', value: 7.5 },
    { key: 'day', value: '2026-06-15' },
    { key: 'notes', value: ' all fine ' },
  ];
  it('keeps valid answers in the template order, trimmed, and skips null optional ones', () => {
    expect(validateAnswers(fields, [...ok, { key: 'notes2', value: 1 }].slice(0, 6))).toEqual([
      { key: 'ppe', value: true },
      { key: 'hours', value: 7.5 },
      { key: 'shift', value: 'NIGHT' },
      { key: 'hazards', value: ['DUST', 'HEIGHT'] },
      { key: 'day', value: '2026-06-15' },
      { key: 'notes', value: 'all fine' },
    ]);
    expect(validateAnswers(fields, [{ key: 'ppe', value: false }, { key: 'shift', value: 'DAY' }, { key: 'hours', value: null }])).toHaveLength(2);
  });

  const refused = (answers: unknown) => {
    try {
      validateAnswers(fields, answers);
    } catch (err) {
      return (err as { extensions: { code: string; field: string } }).extensions;
    }
    throw new Error('accepted');
  };
  it('refuses wrong types, options outside the list, unknown and repeated keys, and missing required answers', () => {
    const without = (key: string) => ok.filter((a) => a.key !== key);
    const replace = (key: string, value: unknown) => [...without(key), { key, value }];
    expect(refused(replace('ppe', 'yes'))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.ppe' });
    expect(refused(replace('hours', '7'))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.hours' });
    expect(refused(replace('shift', 'EVENING'))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.shift' });
    expect(refused(replace('hazards', ['DUST', 'DUST']))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.hazards' });
    expect(refused(replace('hazards', []))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.hazards' });
    expect(refused(replace('day', '2026-02-30'))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.day' });
    expect(refused(replace('notes', 'x'.repeat(2001)))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.notes' });
    expect(refused(without('shift'))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.shift' });
    expect(refused(replace('ppe', null))).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.ppe' });
    expect(refused([...ok, { key: 'nope', value: 1 }])).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refused([...ok, { key: 'ppe', value: true }])).toEqual({ code: 'BAD_USER_INPUT', field: 'answers.ppe' });
  });

  it('is submitted once, for a project of the template\'s company', () => {
    const spec = deciderSpec(form);
    const submit = (projectCompanyId = C) => (s: ReturnType<typeof form.initialState>) =>
      decideForm.submit(s, { formId: F, template: { templateId: T, templateVersion: 2, companyId: C, fields }, projectId: P, projectCompanyId, profileId: W, answers: ok, now });
    const [submitted] = spec.given().when(submit()).then((events) => expect(events[0].data).toMatchObject({ templateVersion: 2, companyId: C, profileId: W }));
    spec.given().when(submit(OTHER)).thenRefuses('BAD_USER_INPUT', 'templateId');
    spec.given(submitted).when(submit()).thenRefuses('CONFLICT');
  });
});

describe('Anomaly', () => {
  const spec = deciderSpec(anomaly);
  const report = (cmd: Record<string, unknown> = {}) => (s: ReturnType<typeof anomaly.initialState>) =>
    decideAnomaly.report(s, { anomalyId: A, projectId: P, companyId: C, reportedBy: W, reporterProfileId: W, severity: 'HIGH', description: 'Loose railing', now, ...cmd });
  const step = (to: string, note: unknown = 'on it') => (s: ReturnType<typeof anomaly.initialState>) =>
    decideAnomaly.changeStatus(s, { anomalyId: A, to, note, changedBy: 'm1', now });
  const [reported] = report()(anomaly.initialState());

  it('is reported OPEN and moves OPEN → IN_PROGRESS → RESOLVED with notes', () => {
    expect(reported.data).toMatchObject({ status: 'OPEN', occurredAt: now.toISOString(), severity: 'HIGH' });
    const [started] = spec.given(reported).when(step('IN_PROGRESS')).then([
      { type: 'AnomalyStatusChanged', data: { anomalyId: A, companyId: C, from: 'OPEN', to: 'IN_PROGRESS', note: 'on it', changedBy: 'm1', changedAt: now.toISOString() } },
    ]);
    expect(spec.given(reported, started).when(step('RESOLVED', 'fixed')).thenState().status).toBe('RESOLVED');
  });

  it('refuses skipping a step, going back, staying, a note too long or missing, and an unknown anomaly', () => {
    spec.given(reported).when(step('RESOLVED')).thenRefuses('BAD_USER_INPUT', 'status');
    spec.given(reported).when(step('OPEN')).thenRefuses('BAD_USER_INPUT', 'status');
    const [started] = step('IN_PROGRESS')(given(anomaly, reported));
    spec.given(reported, started).when(step('OPEN')).thenRefuses('BAD_USER_INPUT', 'status');
    spec.given(reported, started).when(step('IN_PROGRESS')).thenRefuses('BAD_USER_INPUT', 'status');
    spec.given(reported).when(step('IN_PROGRESS', 'x'.repeat(MAX_NOTE + 1))).thenRefuses('BAD_USER_INPUT', 'note');
    spec.given(reported).when(step('IN_PROGRESS', '  ')).thenRefuses('BAD_USER_INPUT', 'note');
    spec.given(reported).when(step('CLOSED')).thenRefuses('BAD_USER_INPUT', 'status');
    spec.given().when(step('IN_PROGRESS')).thenRefuses('NOT_FOUND');
  });

  it('refuses an unknown severity, an empty description, a future or malformed occurredAt', () => {
    spec.given().when(report({ severity: 'SEVERE' })).thenRefuses('BAD_USER_INPUT', 'severity');
    spec.given().when(report({ description: '' })).thenRefuses('BAD_USER_INPUT', 'description');
    spec.given().when(report({ occurredAt: '2026-06-16T12:00:00Z' })).thenRefuses('BAD_USER_INPUT', 'occurredAt');
    spec.given().when(report({ occurredAt: 'yesterday' })).thenRefuses('BAD_USER_INPUT', 'occurredAt');
    spec.given(reported).when(report()).thenRefuses('CONFLICT');
  });
});
