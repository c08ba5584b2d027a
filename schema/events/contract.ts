import { z } from 'zod';

/**
 * An event contract: the one declarative description of a domain event type, shared by
 * the service that writes it (validated before append) and the projector that reads it.
 * Change a contract's data shape only by adding a new `version`.
 */
export interface EventContract<Type extends string = string, Schema extends z.ZodObject = z.ZodObject> {
  source: string;
  type: Type;
  version: number;
  description: string;
  data: Schema;
}

/** Declares an event contract. */
export function defineEvent<Type extends string, Schema extends z.ZodObject>(
  contract: EventContract<Type, Schema>,
): EventContract<Type, Schema> {
  return contract;
}

/** ISO calendar date, `YYYY-MM-DD`. */
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
export const uuid = z.string().uuid();
