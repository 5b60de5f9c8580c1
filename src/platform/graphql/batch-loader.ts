import DataLoader from 'dataloader';

/**
 * A loader for a per-owner field that takes arguments (a page of `Member.ledger`, …): the keys of
 * one tick are grouped by their arguments and each group is loaded by one call for all its owners.
 * A list of 100 members asking `ledger(first: 5)` is then one statement, not 100.
 */
export function batchByArgs<A, R>(load: (ownerIds: string[], args: A) => Promise<Map<string, R>>, empty: () => R) {
  return new DataLoader<{ ownerId: string; args: A }, R, string>(
    async (keys) => {
      const groups = new Map<string, { args: A; ownerIds: string[] }>();
      for (const key of keys) {
        const id = JSON.stringify(key.args ?? null);
        const group = groups.get(id) ?? { args: key.args, ownerIds: [] };
        group.ownerIds.push(key.ownerId);
        groups.set(id, group);
      }
      // A group that fails (a bad cursor) fails its own keys only.
      const results = new Map<string, Map<string, R> | Error>();
      await Promise.all(
        [...groups].map(async ([id, group]) => {
          results.set(id, await load([...new Set(group.ownerIds)], group.args).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
        }),
      );
      return keys.map((key) => {
        const result = results.get(JSON.stringify(key.args ?? null))!;
        return result instanceof Error ? result : (result.get(key.ownerId) ?? empty());
      });
    },
    { cacheKeyFn: (key) => `${key.ownerId}\u0000${JSON.stringify(key.args ?? null)}` },
  );
}

/** Rows grouped by their owner column, order kept. */
export function groupBy<R>(rows: R[], ownerOf: (row: R) => string): Map<string, R[]> {
  const grouped = new Map<string, R[]>();
  for (const row of rows) {
    const owner = ownerOf(row);
    const list = grouped.get(owner);
    if (list) list.push(row);
    else grouped.set(owner, [row]);
  }
  return grouped;
}
