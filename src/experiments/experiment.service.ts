import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { uniqueViolation } from '../platform/db/orm';
import { Experiment, ExperimentStatus, type VariantDefinition } from './experiment.entity';
import { DuplicateExperimentError, ExperimentNotFoundError, ExperimentStateError } from './experiment.errors';
import { assignVariant, experimentOutcome, fnv1a32, type Outcome, type VariantCounts } from './experiment.rules';
import { transact } from '../platform/db/unit-of-work';

export interface ExperimentFields {
  key: string;
  name: string;
  variants: { key: string; weight: number; payload?: unknown }[];
  primaryMetric: string;
  trafficShare?: number | null;
}

export interface Assignment {
  experimentKey: string;
  variant: string;
  payload: unknown;
  inExperiment: boolean;
}

export interface Results extends Outcome {
  experiment: Experiment;
  metric: string;
}

/** Keys of experiments and variants, and metric names: what an SDK, a URL or a log line takes as is. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_VARIANTS = 10;
const MAX_PAYLOAD_BYTES = 4096;
/** A value larger than this is a client's bug, not revenue: it would swamp every mean. */
const MAX_EVENT_VALUE = 1e12;
/** Results are recomputed at most this often per (experiment, metric) and instance. */
export const RESULTS_CACHE_MS = 5_000;
const RESULTS_CACHE_MAX_ENTRIES = 1_000;
/** Rows each variant's running totals are split over (see ExperimentExposureTally). */
export const EXPERIMENT_TALLY_SHARDS = 16;

/** The tally row a member writes: fixed per member, spread evenly over the shards. */
export const tallyShard = (memberId: string): number => fnv1a32(memberId) % EXPERIMENT_TALLY_SHARDS;

function checkKey(value: string, field: string): string {
  const key = (value ?? '').trim();
  if (!KEY.test(key)) throw new BadInputError(`${field} must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit`, field);
  return key;
}

/** Every check of createExperiment, in field order; the first problem is reported, naming its field. */
function validated(input: ExperimentFields): { key: string; name: string; variants: VariantDefinition[]; primaryMetric: string; trafficShare: number } {
  const key = checkKey(input.key, 'key');
  const name = (input.name ?? '').trim();
  if (!name || name.length > 100) throw new BadInputError('name must be 1 to 100 characters', 'name');
  if (!Array.isArray(input.variants) || input.variants.length < 2 || input.variants.length > MAX_VARIANTS) {
    throw new BadInputError(`variants must list 2 to ${MAX_VARIANTS} variants`, 'variants');
  }
  const seen = new Set<string>();
  const variants: VariantDefinition[] = input.variants.map((v, i) => {
    const variantKey = checkKey(v.key, `variants[${i}].key`);
    if (seen.has(variantKey)) throw new BadInputError(`variants[${i}].key ${variantKey} is used twice; variant keys must be unique`, `variants[${i}].key`);
    seen.add(variantKey);
    if (!Number.isFinite(v.weight) || v.weight <= 0 || v.weight > 1e6) throw new BadInputError(`variants[${i}].weight must be a positive number`, `variants[${i}].weight`);
    const payload = v.payload ?? null;
    if (payload !== null && Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) {
      throw new BadInputError(`variants[${i}].payload must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON`, `variants[${i}].payload`);
    }
    return { key: variantKey, weight: v.weight, payload };
  });
  const primaryMetric = checkKey(input.primaryMetric, 'primaryMetric');
  const trafficShare = input.trafficShare ?? 1;
  if (!Number.isFinite(trafficShare) || trafficShare < 0 || trafficShare > 1) throw new BadInputError('trafficShare must be between 0 and 1', 'trafficShare');
  return { key, name, variants, primaryMetric, trafficShare };
}

/**
 * A/B experiments: admins define, start and stop them; members (or other domains, for a member)
 * get their variant, which records one exposure; metric events count for exposed members only;
 * results sum running totals kept by the same statements (SQL aggregates over a few rows), with
 * the statistics of `experiment.rules.ts`.
 */
export class ExperimentService {
  /** (experiment id, metric) → counts; in-process, on the injected clock, shared by concurrent readers. */
  private readonly resultsCache = new Map<string, { expiresAt: number; counts: Promise<VariantCounts[]> }>();

  constructor(private readonly deps: { clock: Clock }) {}

  async create(em: EntityManager, input: ExperimentFields, createdBy: string): Promise<Experiment> {
    const fields = validated(input);
    try {
      return await transact(em.fork(), async ({ tx }) => tx.create(Experiment, { ...fields, status: ExperimentStatus.DRAFT, createdAt: this.deps.clock.now(), createdBy }));
    } catch (error) {
      if (uniqueViolation(error) === 'experiment_key_unique') throw new DuplicateExperimentError(fields.key);
      throw error;
    }
  }

  /** DRAFT → RUNNING, by one conditional UPDATE: two admins starting at once start it once. */
  start(em: EntityManager, key: string): Promise<Experiment> {
    return this.transition(em, key, ExperimentStatus.DRAFT, ExperimentStatus.RUNNING, 'started_at', 'start');
  }

  /** RUNNING → STOPPED: members see the control from now on, and later events are not counted. */
  stop(em: EntityManager, key: string): Promise<Experiment> {
    return this.transition(em, key, ExperimentStatus.RUNNING, ExperimentStatus.STOPPED, 'stopped_at', 'stop');
  }

  private async transition(em: EntityManager, key: string, from: ExperimentStatus, to: ExperimentStatus, column: 'started_at' | 'stopped_at', action: 'start' | 'stop'): Promise<Experiment> {
    const rows = await em.execute<Record<string, unknown>[]>(`update experiment set status = ?, ${column} = ? where key = ? and status = ? returning *`, [to, this.deps.clock.now(), key, from]);
    if (rows[0]) return em.map(Experiment, rows[0]);
    const current = await em.findOne(Experiment, { key });
    if (!current) throw new ExperimentNotFoundError(key);
    throw new ExperimentStateError(key, current.status, action);
  }

  list(em: EntityManager): Promise<Experiment[]> {
    return em.find(Experiment, {}, { orderBy: { createdAt: 'desc', key: 'asc' } });
  }

  /** A running or stopped experiment; a draft does not exist for members. */
  private async live(em: EntityManager, key: string): Promise<Experiment> {
    const experiment = await em.findOne(Experiment, { key });
    if (!experiment || experiment.status === ExperimentStatus.DRAFT) throw new ExperimentNotFoundError(key);
    return experiment;
  }

  /**
   * The member's variant, for the API and for other domains (see index.ts). While the experiment
   * runs, the first call records the exposure; the INSERT … ON CONFLICT DO NOTHING on the
   * (experiment, member) key keeps it to one row however many calls race. Outside the traffic
   * share, or once stopped: the control, not in the experiment, and nothing recorded.
   */
  async variantFor(em: EntityManager, key: string, memberId: string): Promise<Assignment> {
    const experiment = await this.live(em, key);
    const control = experiment.variants[0];
    const index =
      experiment.status === ExperimentStatus.RUNNING ? assignVariant({ key: experiment.key, weights: experiment.variants.map((v) => v.weight), trafficShare: experiment.trafficShare }, memberId) : -1;
    if (index < 0) return { experimentKey: experiment.key, variant: control.key, payload: control.payload ?? null, inExperiment: false };
    const variant = experiment.variants[index];
    // Only while still running (a stop that committed first wins) and only for a member that
    // exists; the tally counts the exposure in the same statement, only when it was inserted.
    await em.execute(
      `with exposed as (
         insert into experiment_exposure (experiment_id, member_id, variant, exposed_at)
         select x.id, m.id, ?, ? from experiment x join member m on m.id = ?
         where x.id = ? and x.status = 'RUNNING'
         on conflict (experiment_id, member_id) do nothing
         returning experiment_id, variant)
       insert into experiment_exposure_tally (experiment_id, variant, shard, exposures)
       select experiment_id, variant, ?, 1 from exposed
       on conflict (experiment_id, variant, shard) do update set exposures = experiment_exposure_tally.exposures + 1`,
      [variant.key, this.deps.clock.now(), memberId, experiment.id, tallyShard(memberId)],
    );
    return { experimentKey: experiment.key, variant: variant.key, payload: variant.payload ?? null, inExperiment: true };
  }

  /**
   * A metric event under the variant the member was exposed to. Returns false, recording nothing,
   * when the member has no exposure (never asked, or outside the traffic share) or the experiment
   * is stopped: only members in the experiment count, so the control is not inflated.
   */
  async track(em: EntityManager, key: string, memberId: string, metricInput: string, value: number): Promise<boolean> {
    const metric = checkKey(metricInput, 'metric');
    if (!Number.isFinite(value) || Math.abs(value) > MAX_EVENT_VALUE) throw new BadInputError(`value must be a finite number of at most ${MAX_EVENT_VALUE} in size`, 'value');
    const experiment = await this.live(em, key);
    const now = this.deps.clock.now();
    // One statement: the event, the member's conversion row (inserted by its first event of the
    // metric, updated by the next: `xmax = 0` tells which) and the variant's tally, which counts
    // the member once.
    const rows = await em.execute<{ counted: number }[]>(
      `with exposure as (
         select e.experiment_id, e.member_id, e.variant from experiment_exposure e join experiment x on x.id = e.experiment_id
         where e.experiment_id = ? and e.member_id = ? and x.status = 'RUNNING'),
       logged as (
         insert into experiment_event (experiment_id, member_id, variant, metric, value, created_at)
         select experiment_id, member_id, variant, ?, ?, ? from exposure
         returning experiment_id, member_id, variant, metric, value, created_at),
       converted as (
         insert into experiment_conversion (experiment_id, metric, member_id, variant, events, value_sum, first_at, last_at)
         select experiment_id, metric, member_id, variant, 1, value, created_at, created_at from logged
         on conflict (experiment_id, metric, member_id) do update
           set events = experiment_conversion.events + 1, value_sum = experiment_conversion.value_sum + excluded.value_sum, last_at = excluded.last_at
         returning experiment_id, metric, variant, (xmax = 0) as first)
       insert into experiment_metric_tally (experiment_id, metric, variant, shard, members, value_sum)
       select experiment_id, metric, variant, ?, case when first then 1 else 0 end, ? from converted
       on conflict (experiment_id, metric, variant, shard) do update
         set members = experiment_metric_tally.members + excluded.members, value_sum = experiment_metric_tally.value_sum + excluded.value_sum
       returning 1 as counted`,
      [experiment.id, memberId, metric, value, now, tallyShard(memberId), value],
    );
    return rows.length > 0;
  }

  /** Results of a metric (the primary one by default), any status; counts cached RESULTS_CACHE_MS. */
  async results(em: EntityManager, key: string, metricInput?: string | null): Promise<Results> {
    const experiment = await em.findOne(Experiment, { key });
    if (!experiment) throw new ExperimentNotFoundError(key);
    const metric = metricInput == null ? experiment.primaryMetric : checkKey(metricInput, 'metric');
    const counts = await this.cachedCounts(em, experiment, metric);
    return {
      experiment,
      metric,
      ...experimentOutcome(
        counts,
        experiment.variants.map((v) => v.weight),
      ),
    };
  }

  private cachedCounts(em: EntityManager, experiment: Experiment, metric: string): Promise<VariantCounts[]> {
    const now = this.deps.clock.now().getTime();
    const cacheKey = `${experiment.id}\u0000${metric}`;
    const hit = this.resultsCache.get(cacheKey);
    if (hit && hit.expiresAt > now) return hit.counts;
    if (this.resultsCache.size >= RESULTS_CACHE_MAX_ENTRIES) {
      for (const [k, v] of this.resultsCache) if (v.expiresAt <= now) this.resultsCache.delete(k);
      if (this.resultsCache.size >= RESULTS_CACHE_MAX_ENTRIES) this.resultsCache.clear();
    }
    const counts = this.counts(em, experiment, metric);
    this.resultsCache.set(cacheKey, { expiresAt: now + RESULTS_CACHE_MS, counts });
    // A failed computation is not cached: the next reader tries again.
    counts.catch(() => this.resultsCache.get(cacheKey)?.counts === counts && this.resultsCache.delete(cacheKey));
    return counts;
  }

  /**
   * Exposures, converting members and value sums per variant, from the tallies: at most
   * EXPERIMENT_TALLY_SHARDS rows per variant, read by primary key, whatever the number of events.
   */
  async counts(em: EntityManager, experiment: Experiment, metric: string): Promise<VariantCounts[]> {
    const exposures = await em.execute<{ variant: string; n: number }[]>('select variant, sum(exposures)::int as n from experiment_exposure_tally where experiment_id = ? group by variant', [
      experiment.id,
    ]);
    const conversions = await em.execute<{ variant: string; members: number; value_sum: number }[]>(
      'select variant, sum(members)::int as members, sum(value_sum)::float8 as value_sum from experiment_metric_tally where experiment_id = ? and metric = ? group by variant',
      [experiment.id, metric],
    );
    return experiment.variants.map((v) => ({
      variant: v.key,
      exposures: exposures.find((e) => e.variant === v.key)?.n ?? 0,
      conversions: conversions.find((c) => c.variant === v.key)?.members ?? 0,
      valueSum: conversions.find((c) => c.variant === v.key)?.value_sum ?? 0,
    }));
  }
}
