/**
 * The program's configuration version (migration Migration20261130210000ConfigVersion): a counter
 * that a trigger bumps, in the editing transaction, on any write to the tables an admin edits and
 * every earning reads (program_settings, tier, earning_rule, challenge).
 *
 * As a subselect, for a statement a use case sends anyway (the member lock, ledger.writer.ts), so
 * checking it costs no round trip. Reading it with FOR UPDATE would serialize earnings: a plain
 * read is enough, see VersionedCache.
 */
export const CONFIG_VERSION_SQL = '(select version from config_version where id = 1)';

/**
 * What a use case loaded from the configuration tables, reused while the version it reads in its
 * own transaction is unchanged (issue 14: an earning read settings, tiers, rules and challenges
 * on every call, four round trips of its fifteen).
 *
 * Never stale, by the order of reads: the version is read first (in the lock statement), the rows
 * after it, in the same transaction. Under READ COMMITTED each statement sees what had committed
 * when it started, so the rows are at least as new as the version: an edit committed in between
 * gives rows newer than their label, and the next use case, which reads the newer version, loads
 * again. The opposite (old rows under a new version) cannot happen: the counter moves only when
 * the edit commits. Several instances each keep their own copy and each checks the version.
 */
export class VersionedCache<T> {
  private entry: { version: number; value: Promise<T> } | null = null;

  /**
   * The value for `version`, loaded with `load` (run in the caller's transaction) when this copy
   * is older. A failed load is not kept. `version` null (no lock statement ran): load, keep nothing.
   */
  get(version: number | null, load: () => Promise<T>): Promise<T> {
    if (version === null) return load();
    const entry = this.entry;
    if (entry && entry.version === version) return entry.value;
    // Two transactions that read different versions may each replace the other's copy: a reload
    // more, never a wrong value (a restored backup may even move the counter back).
    const loaded = { version, value: load() };
    this.entry = loaded;
    loaded.value.catch(() => {
      if (this.entry === loaded) this.entry = null;
    });
    return loaded.value;
  }
}
