import { BadUserInputError } from '../errors.ts';

/** Cursor pagination shared by every subgraph: keyset on a row's stable `position`. */

export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page {
  /** Rows to return. */
  limit: number;
  /** Only rows with a greater position. */
  afterPosition: number;
}

export interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Encodes a position as an opaque cursor. */
export function encodeCursor(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

/** Validates `first`/`after` into a page, or throws BAD_USER_INPUT saying why. */
export function toPage(args: PageArgs): Page {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be from 1 to ${MAX_PAGE_SIZE}, got ${first}`, 'first');
  }
  let afterPosition = 0;
  if (args.after != null) {
    const m = /^p:(\d{1,15})$/.exec(Buffer.from(args.after, 'base64url').toString());
    if (!m) throw new BadUserInputError('after is not a cursor this API returned', 'after');
    afterPosition = Number(m[1]);
  }
  return { limit: first, afterPosition };
}

/** Builds a connection from up to `limit + 1` rows fetched in position order. */
export function toConnection<T extends { position: number }>(rows: T[], page: Page): Connection<T> {
  const nodes = rows.slice(0, page.limit);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { hasNextPage: rows.length > page.limit, endCursor: last ? encodeCursor(last.position) : null } };
}
