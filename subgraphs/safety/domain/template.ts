import { BadUserInputError, ConflictError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { fieldTypes, type SafetyEvent, type TemplateField } from '../../../schema/events/safety.ts';

/**
 * The FormTemplate aggregate (stream `form-template-<id>`): a company's safety form, in
 * versions. Publishing again adds a version; a version, once published, never changes, so
 * a form submitted against it stays valid as it was filled in.
 */
export interface TemplateState {
  templateId: string | null;
  companyId: string | null;
  latestVersion: number;
}

export const templateStream = (templateId: string) => `form-template-${templateId}`;

export const MAX_FIELDS = 100;
export const MAX_OPTIONS = 50;
const KEY = /^[a-z][a-z0-9_]{0,39}$/;

export const template = {
  initialState: (): TemplateState => ({ templateId: null, companyId: null, latestVersion: 0 }),
  evolve: (state: TemplateState, event: RecordedEvent<SafetyEvent>): TemplateState => {
    if (event.type !== 'FormTemplatePublished') return state;
    const d = event.data as Extract<SafetyEvent, { type: 'FormTemplatePublished' }>['data'];
    return { templateId: d.templateId, companyId: d.companyId, latestVersion: d.templateVersion };
  },
};

/** The fields of a template as given by a caller, checked: keys unique, options where (and only where) a choice needs them. */
export function templateFields(value: unknown): TemplateField[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadUserInputError('fields must list at least one field', 'fields');
  if (value.length > MAX_FIELDS) throw new BadUserInputError(`a template has at most ${MAX_FIELDS} fields`, 'fields');
  const keys = new Set<string>();
  return value.map((raw, i) => {
    const at = `fields[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new BadUserInputError(`${at} must be a field`, at);
    const f = raw as Record<string, unknown>;
    const key = input.text(f.key, `${at}.key`, 40);
    if (!KEY.test(key)) throw new BadUserInputError(`${at}.key must be lower-case letters, digits or "_", starting with a letter`, `${at}.key`);
    if (keys.has(key)) throw new BadUserInputError(`${at}.key ${key} is used twice`, `${at}.key`);
    keys.add(key);
    const type = f.type as TemplateField['type'];
    if (!fieldTypes.includes(type)) throw new BadUserInputError(`${at}.type must be one of ${fieldTypes.join(', ')}`, `${at}.type`);
    if (f.required != null && typeof f.required !== 'boolean') throw new BadUserInputError(`${at}.required must be true or false`, `${at}.required`);
    const options = f.options == null ? [] : f.options;
    if (!Array.isArray(options)) throw new BadUserInputError(`${at}.options must be a list`, `${at}.options`);
    const choice = type === 'CHOICE' || type === 'MULTI_CHOICE';
    if (choice && (options.length < 2 || options.length > MAX_OPTIONS)) {
      throw new BadUserInputError(`${at}.options: a ${type} field needs 2 to ${MAX_OPTIONS} options`, `${at}.options`);
    }
    if (!choice && options.length > 0) throw new BadUserInputError(`${at}.options: only CHOICE and MULTI_CHOICE fields have options`, `${at}.options`);
    const texts = options.map((o, j) => input.text(o, `${at}.options[${j}]`, 100));
    if (new Set(texts).size !== texts.length) throw new BadUserInputError(`${at}.options must be distinct`, `${at}.options`);
    return { key, label: input.text(f.label, `${at}.label`, 200), type, required: f.required === true, options: texts };
  });
}

export const decideTemplate = {
  /** Publishes version 1 (a new template) or the next version of an existing one. */
  publish(
    state: TemplateState,
    cmd: { templateId: string; companyId: string; name: unknown; mandatory?: unknown; fields: unknown; now: Date; isNew: boolean },
  ): SafetyEvent[] {
    if (cmd.isNew && state.templateId !== null) throw new ConflictError(`Form template ${cmd.templateId} already exists`);
    if (!cmd.isNew && state.templateId === null) throw new BadUserInputError(`form template ${cmd.templateId} does not exist`, 'templateId');
    if (state.companyId !== null && state.companyId !== cmd.companyId) {
      throw new BadUserInputError('a new version stays with the company of the template', 'companyId');
    }
    if (cmd.mandatory != null && typeof cmd.mandatory !== 'boolean') throw new BadUserInputError('mandatory must be true or false', 'mandatory');
    return [
      {
        type: 'FormTemplatePublished',
        data: {
          templateId: cmd.templateId,
          companyId: cmd.companyId,
          templateVersion: state.latestVersion + 1,
          name: input.text(cmd.name, 'name', 120),
          mandatory: cmd.mandatory === true,
          fields: templateFields(cmd.fields),
          publishedAt: cmd.now.toISOString(),
        },
      },
    ];
  },
};
