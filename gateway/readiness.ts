/** True when every subgraph answers `{ __typename }` within `timeoutMs`. */
export async function subgraphsReady(urls: string[], timeoutMs = 2_000): Promise<boolean> {
  const answers = await Promise.all(
    urls.map(async (url) => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = (await res.json()) as { data?: { __typename?: string } };
        return res.ok && body.data?.__typename === 'Query';
      } catch {
        return false;
      }
    }),
  );
  return answers.every(Boolean);
}
