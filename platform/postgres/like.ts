/** Escapes LIKE wildcards (with `ESCAPE '\\'`), so a search for "50%" matches the text literally. */
export function escapeLike(search: string): string {
  return search.replace(/[\\%_]/g, (c) => `\\${c}`);
}
