import DataLoader from 'dataloader';

/**
 * DataLoader shapes used by every subgraph, so an entity reference or a list field costs
 * one `= ANY($1)` query per batch, whatever the number of rows.
 */

/** One row per key (null when absent), fetched in one batch. */
export function byKey<K extends string, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): DataLoader<K, V | null> {
  return new DataLoader(async (keys) => {
    const rows = await fetch(keys);
    const map = new Map(rows.map((r) => [keyOf(r), r]));
    return keys.map((k) => map.get(k) ?? null);
  });
}

/** Many rows per key (a list field), fetched in one batch. */
export function groupedBy<K extends string, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): DataLoader<K, V[]> {
  return new DataLoader(async (keys) => {
    const rows = await fetch(keys);
    const groups = new Map<K, V[]>();
    for (const r of rows) {
      const k = keyOf(r);
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    return keys.map((k) => groups.get(k) ?? []);
  });
}

/**
 * A family of loaders keyed by field arguments: parents asking with the same arguments
 * share one batch (e.g. every `licenses(expiringWithinDays: 30)` in a response).
 */
export function perArgs<A, L>(make: (args: A) => L): (args: A) => L {
  const loaders = new Map<string, L>();
  return (args) => {
    const key = JSON.stringify(args);
    let loader = loaders.get(key);
    if (!loader) loaders.set(key, (loader = make(args)));
    return loader;
  };
}
