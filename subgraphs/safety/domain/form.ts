import { BadUserInputError, ConflictError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { Answer, SafetyEvent, TemplateField } from '../../../schema/events/safety.ts';

/** The SafetyForm aggregate (stream `safety-form-<id>`): submitted once, never edited. */
export interface FormState {
  formId: string | null;
}

export const formStream = (formId: string) => `safety-form-${formId}`;

export const MAX_TEXT_ANSWER = 2000;

export const form = {
  initialState: (): FormState => ({ formId: null }),
  evolve: (state: FormState, event: RecordedEvent<SafetyEvent>): FormState =>
    event.type === 'SafetyFormSubmitted' ? { formId: (event.data as { formId: string }).formId } : state,
};

/** One answer checked against its field: the field's type, and for choices its options. */
function answerValue(field: TemplateField, value: unknown, at: string): Answer['value'] {
  const wrong = (what: string) => new BadUserInputError(`${at} (${field.label}) must be ${what}`, at);
  switch (field.type) {
    case 'TEXT':
      return input.text(value, at, MAX_TEXT_ANSWER);
    case 'NUMBER':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong('a number');
      return value;
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw wrong('true or false');
      return value;
    case 'DATE':
      return input.isoDate(value, at);
    case 'CHOICE':
      if (typeof value !== 'string' || !field.options.includes(value)) throw wrong(`one of ${field.options.join(', ')}`);
      return value;
    case 'MULTI_CHOICE': {
      if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || !field.options.includes(v))) {
        throw wrong(`a non-empty list of ${field.options.join(', ')}`);
      }
      if (new Set(value).size !== value.length) throw wrong('a list without repeats');
      return value as string[];
    }
  }
}

/**
 * Answers checked against a template version: each names a field of it once, has the
 * field's type (and one of its options), and every required field is answered. Returned in
 * the template's field order; a null answer counts as no answer.
 */
export function validateAnswers(fields: TemplateField[], answers: unknown): Answer[] {
  if (!Array.isArray(answers)) throw new BadUserInputError('answers must be a list', 'answers');
  const byKey = new Map<string, unknown>();
  for (const [i, raw] of answers.entries()) {
    const a = raw as { key?: unknown; value?: unknown } | null;
    if (!a || typeof a.key !== 'string') throw new BadUserInputError(`answers[${i}] needs a key`, `answers[${i}]`);
    if (!fields.some((f) => f.key === a.key)) throw new BadUserInputError(`answers[${i}]: the template has no field ${JSON.stringify(a.key.slice(0, 40))}`, `answers[${i}]`);
    if (byKey.has(a.key)) throw new BadUserInputError(`answers.${a.key} is answered twice`, `answers.${a.key}`);
    byKey.set(a.key, a.value);
  }
  const out: Answer[] = [];
  for (const field of fields) {
    const value = byKey.get(field.key);
    const at = `answers.${field.key}`;
    if (value === undefined || value === null) {
      if (field.required) throw new BadUserInputError(`${at} (${field.label}) is required`, at);
      continue;
    }
    out.push({ key: field.key, value: answerValue(field, value, at) });
  }
  return out;
}

export const decideForm = {
  submit(
    state: FormState,
    cmd: {
      formId: string;
      template: { templateId: string; templateVersion: number; companyId: string; fields: TemplateField[] };
      projectId: string;
      projectCompanyId: string;
      profileId: string;
      answers: unknown;
      now: Date;
    },
  ): SafetyEvent[] {
    if (state.formId !== null) throw new ConflictError(`Safety form ${cmd.formId} was already submitted`);
    if (cmd.template.companyId !== cmd.projectCompanyId) {
      throw new BadUserInputError("the template is not one of the project's company", 'templateId');
    }
    return [
      {
        type: 'SafetyFormSubmitted',
        data: {
          formId: cmd.formId,
          templateId: cmd.template.templateId,
          templateVersion: cmd.template.templateVersion,
          projectId: cmd.projectId,
          companyId: cmd.projectCompanyId,
          profileId: cmd.profileId,
          answers: validateAnswers(cmd.template.fields, cmd.answers),
          submittedAt: cmd.now.toISOString(),
        },
      },
    ];
  },
};
