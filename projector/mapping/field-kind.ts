import type { z } from 'zod';
import type { LakeType } from '../../schema/lake/contract.ts';

/** What an event contract field holds, as far as a lake column cares. */
export interface FieldKind {
  kind: 'string' | 'date' | 'datetime' | 'int' | 'number' | 'boolean' | 'enum' | 'other';
  nullable: boolean;
}

const ISO_DATE_SOURCE = String.raw`^\d{4}-\d{2}-\d{2}$`;

interface ZodInternals {
  _zod: { def: { type: string; innerType?: ZodInternals; checks?: { _zod: { def: Record<string, unknown> } }[]; format?: string } };
}

/** Reads a zod 4 field's kind, unwrapping nullable/optional/default. */
export function fieldKind(schema: z.ZodType): FieldKind {
  let node = schema as unknown as ZodInternals;
  let nullable = false;
  while (['nullable', 'optional', 'default', 'readonly'].includes(node._zod.def.type) && node._zod.def.innerType) {
    nullable = true;
    node = node._zod.def.innerType;
  }
  const def = node._zod.def;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  switch (def.type) {
    case 'string': {
      const date = checks.some(
        (c) => c.format === 'date' || (c.format === 'regex' && (c.pattern as RegExp | undefined)?.source === ISO_DATE_SOURCE),
      );
      const datetime = checks.some((c) => c.format === 'datetime');
      return { kind: date ? 'date' : datetime ? 'datetime' : 'string', nullable };
    }
    case 'number':
      return { kind: checks.some((c) => c.format === 'safeint' || c.format === 'int32') ? 'int' : 'number', nullable };
    case 'int':
      return { kind: 'int', nullable };
    case 'boolean':
      return { kind: 'boolean', nullable };
    case 'enum':
    case 'literal':
      return { kind: 'enum', nullable };
    default:
      return { kind: 'other', nullable };
  }
}

/** The field kinds each lake type accepts without losing meaning. */
const ACCEPTS: Record<LakeType, FieldKind['kind'][]> = {
  VARCHAR: ['string', 'date', 'datetime', 'enum'],
  DATE: ['date'],
  TIMESTAMP: ['datetime'],
  BIGINT: ['int'],
  INTEGER: ['int'],
  DOUBLE: ['int', 'number'],
  BOOLEAN: ['boolean'],
};

/** True when a field of this kind can be stored in a column of this type. */
export function accepts(type: LakeType, kind: FieldKind['kind']): boolean {
  return ACCEPTS[type].includes(kind);
}
