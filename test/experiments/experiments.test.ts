import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';
import { assignVariant, twoProportionTest } from '../../src/experiments/experiment.rules';

const EXPERIMENT = 'id key name status controlVariant primaryMetric trafficShare variants { key weight payload } startedAt stoppedAt';
const CREATE = `mutation($input: ExperimentInput!) { createExperiment(input: $input) { ${EXPERIMENT} } }`;
const START = `mutation($key: String!) { startExperiment(key: $key) { ${EXPERIMENT} } }`;
const STOP = `mutation($key: String!) { stopExperiment(key: $key) { ${EXPERIMENT} } }`;
const VARIANT = 'query($key: String!) { variant(experimentKey: $key) { experimentKey variant payload inExperiment } }';
const TRACK = 'mutation($key: String!, $metric: String!, $value: Float) { trackExperimentEvent(experimentKey: $key, metric: $metric, value: $value) }';
const RESULTS = `query($key: String!, $metric: String) { experimentResults(key: $key, metric: $metric) {
  metric srmPValue significant winner experiment { id key status }
  variants { variant exposures conversions conversionRate meanValue lift pValue ciLow ciHigh } } }`;

const twoVariants = (key: string, trafficShare = 1) => ({
  key,
  name: `实验 ${key}`,
  primaryMetric: 'redeem',
  trafficShare,
  variants: [
    { key: 'A', weight: 1, payload: { copy: '您有500积分,可兑换价值¥50的商品!' } },
    { key: 'B', weight: 1, payload: { copy: '您有500积分将于30天后过期,快来使用吧!' } },
  ],
});

describe('experiments', async () => {
  const api = await startApp();

  it('admins create experiments; bad input is refused naming the field and writes nothing', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ variants: [{ key: 'A', weight: 1 }] }, 'variants'],
      [
        {
          variants: [
            { key: 'A', weight: 1 },
            { key: 'A', weight: 1 },
          ],
        },
        'variants[1].key',
      ],
      [
        {
          variants: [
            { key: 'A', weight: 1 },
            { key: 'B', weight: 0 },
          ],
        },
        'variants[1].weight',
      ],
      [
        {
          variants: [
            { key: 'A', weight: -1 },
            { key: 'B', weight: 1 },
          ],
        },
        'variants[0].weight',
      ],
      [
        {
          variants: [
            { key: 'A', weight: 1 },
            { key: 'has space', weight: 1 },
          ],
        },
        'variants[1].key',
      ],
      [{ trafficShare: 1.5 }, 'trafficShare'],
      [{ trafficShare: -0.1 }, 'trafficShare'],
      [{ key: '' }, 'key'],
      [{ name: ' ' }, 'name'],
      [{ primaryMetric: '' }, 'primaryMetric'],
    ];
    for (const [change, field] of bad) {
      const res = await api.gql(CREATE, { input: { ...twoVariants('bad-input'), ...change } }, tokens.admin());
      expect(res.errors?.[0].extensions, JSON.stringify(change)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await api.ok('{ experiments { key } }')).experiments).toEqual([]);

    const member = await createMember(api);
    expect(await api.code(CREATE, { input: twoVariants('by-member') }, member.token)).toBe('FORBIDDEN');
    expect(await api.code(CREATE, { input: twoVariants('by-partner') }, tokens.partner())).toBe('FORBIDDEN');
    expect(await api.code('{ experiments { key } }', {}, member.token)).toBe('FORBIDDEN');

    const created = (await api.ok(CREATE, { input: { ...twoVariants('first'), trafficShare: undefined } })).createExperiment;
    expect(created).toMatchObject({ key: 'first', status: 'DRAFT', controlVariant: 'A', trafficShare: 1, startedAt: null, stoppedAt: null });
    expect(created.variants[1]).toEqual({ key: 'B', weight: 1, payload: { copy: '您有500积分将于30天后过期,快来使用吧!' } });
    expect(await api.code(CREATE, { input: twoVariants('first') })).toBe('CONFLICT');
    expect((await api.ok('{ experiments { key status } }')).experiments).toEqual([{ key: 'first', status: 'DRAFT' }]);
  });

  it('assigns members deterministically and stickily, records one exposure, counts events of exposed members only', async () => {
    await api.ok(CREATE, { input: twoVariants('prompt-copy') });
    const member = await createMember(api);
    // A draft does not exist for members; neither does an unknown key.
    expect(await api.code(VARIANT, { key: 'prompt-copy' }, member.token)).toBe('NOT_FOUND');
    expect(await api.code(VARIANT, { key: 'no-such' }, member.token)).toBe('NOT_FOUND');
    expect(await api.code(TRACK, { key: 'no-such', metric: 'redeem' }, member.token)).toBe('NOT_FOUND');
    expect(await api.code(VARIANT, { key: 'prompt-copy' }, tokens.admin())).toBe('FORBIDDEN');

    const started = (await api.ok(START, { key: 'prompt-copy' })).startExperiment;
    expect(started).toMatchObject({ status: 'RUNNING', startedAt: api.clock.now().toISOString() });
    expect(await api.code(START, { key: 'prompt-copy' })).toBe('CONFLICT');

    // Never exposed: the event is ignored.
    expect((await api.ok(TRACK, { key: 'prompt-copy', metric: 'redeem' }, member.token)).trackExperimentEvent).toBe(false);

    const expected = ['A', 'B'][assignVariant({ key: 'prompt-copy', weights: [1, 1], trafficShare: 1 }, member.id)];
    for (let i = 0; i < 3; i += 1) {
      api.clock.advance(60_000);
      const { variant } = await api.ok(VARIANT, { key: 'prompt-copy' }, member.token);
      expect(variant).toMatchObject({ experimentKey: 'prompt-copy', variant: expected, inExperiment: true });
      expect(variant.payload.copy).toContain('您有500积分');
    }
    expect((await api.ok(TRACK, { key: 'prompt-copy', metric: 'redeem', value: 120 }, member.token)).trackExperimentEvent).toBe(true);
    expect((await api.ok(TRACK, { key: 'prompt-copy', metric: 'redeem', value: 30 }, member.token)).trackExperimentEvent).toBe(true);
    expect(await api.code(TRACK, { key: 'prompt-copy', metric: 'not a metric' }, member.token)).toBe('BAD_USER_INPUT');

    const results = (await api.ok(RESULTS, { key: 'prompt-copy' })).experimentResults;
    expect(results).toMatchObject({ metric: 'redeem', experiment: { key: 'prompt-copy', status: 'RUNNING' }, significant: false, winner: null });
    const mine = results.variants.find((v: any) => v.variant === expected);
    expect(mine).toMatchObject({ exposures: 1, conversions: 1, conversionRate: 1, meanValue: 150 });
    expect(results.variants.find((v: any) => v.variant !== expected)).toMatchObject({ exposures: 0, conversions: 0, conversionRate: 0, meanValue: null });
    // Another metric of the same experiment: nobody converted on it.
    expect((await api.ok(RESULTS, { key: 'prompt-copy', metric: 'click' })).experimentResults.variants.map((v: any) => v.conversions)).toEqual([0, 0]);

    // Cached a few seconds per (experiment, metric): a second member shows up once the cache expires.
    const other = await createMember(api);
    await api.ok(VARIANT, { key: 'prompt-copy' }, other.token);
    const exposures = async () => (await api.ok(RESULTS, { key: 'prompt-copy' })).experimentResults.variants.reduce((n: number, v: any) => n + v.exposures, 0);
    expect(await exposures()).toBe(1);
    api.clock.advance(5_001);
    expect(await exposures()).toBe(2);

    // Stopped: everyone sees the control, not in the experiment; nothing more is counted.
    const stopped = (await api.ok(STOP, { key: 'prompt-copy' })).stopExperiment;
    expect(stopped).toMatchObject({ status: 'STOPPED', stoppedAt: api.clock.now().toISOString() });
    expect((await api.ok(VARIANT, { key: 'prompt-copy' }, member.token)).variant).toMatchObject({ variant: 'A', inExperiment: false });
    expect((await api.ok(TRACK, { key: 'prompt-copy', metric: 'redeem' }, member.token)).trackExperimentEvent).toBe(false);
    expect(await api.code(STOP, { key: 'prompt-copy' })).toBe('CONFLICT');
    expect(await api.code(STOP, { key: 'no-such' })).toBe('NOT_FOUND');
    api.clock.advance(5_001);
    const final = (await api.ok(RESULTS, { key: 'prompt-copy' })).experimentResults;
    expect(final.experiment.status).toBe('STOPPED');
    expect(final.variants.reduce((n: number, v: any) => n + v.conversions, 0)).toBe(1);
    expect(final.variants.find((v: any) => v.variant === expected).conversions).toBe(1);
  });

  it('records one exposure however many requests race for it', async () => {
    await api.ok(CREATE, { input: twoVariants('race') });
    await api.ok(START, { key: 'race' });
    const members = await Promise.all([createMember(api), createMember(api), createMember(api)]);
    const answers = await Promise.all(members.flatMap((m) => Array.from({ length: 12 }, () => api.ok(VARIANT, { key: 'race' }, m.token))));
    members.forEach((m, i) => {
      const mine = answers.slice(i * 12, i * 12 + 12).map((a) => a.variant.variant);
      expect(new Set(mine).size).toBe(1);
    });
    // Ten events per member at once: each member converts once, with all ten values.
    const tracked = await Promise.all(members.flatMap((m) => Array.from({ length: 10 }, (_, i) => api.ok(TRACK, { key: 'race', metric: 'redeem', value: i + 1 }, m.token))));
    expect(tracked.every((t) => t.trackExperimentEvent === true)).toBe(true);
    const results = (await api.ok(RESULTS, { key: 'race' })).experimentResults;
    expect(results.variants.reduce((n: number, v: any) => n + v.exposures, 0)).toBe(3);
    expect(results.variants.reduce((n: number, v: any) => n + v.conversions, 0)).toBe(3);
    for (const v of results.variants) if (v.exposures > 0) expect(v.meanValue).toBe(55);
    await expectTalliesAgree(results.experiment.id);
  });

  it('members outside the traffic share see the control, get no exposure, and their events do not count', async () => {
    await api.ok(CREATE, { input: twoVariants('half', 0.5) });
    await api.ok(START, { key: 'half' });
    // Members come until both kinds are there (ids are random: 3 of each within 60 is all but certain).
    let inside = 0;
    let outside = 0;
    for (let i = 0; i < 60 && (inside < 3 || outside < 3); i += 1) {
      const m = await createMember(api);
      const index = assignVariant({ key: 'half', weights: [1, 1], trafficShare: 0.5 }, m.id);
      const { variant } = await api.ok(VARIANT, { key: 'half' }, m.token);
      expect(variant).toMatchObject({ variant: index < 0 ? 'A' : ['A', 'B'][index], inExperiment: index >= 0 });
      const tracked = (await api.ok(TRACK, { key: 'half', metric: 'redeem' }, m.token)).trackExperimentEvent;
      expect(tracked).toBe(index >= 0);
      if (index >= 0) inside += 1;
      else outside += 1;
    }
    expect(Math.min(inside, outside)).toBeGreaterThanOrEqual(3);
    const results = (await api.ok(RESULTS, { key: 'half' })).experimentResults;
    expect(results.variants.reduce((n: number, v: any) => n + v.exposures, 0)).toBe(inside);
    expect(results.variants.reduce((n: number, v: any) => n + v.conversions, 0)).toBe(inside);
    await expectTalliesAgree(results.experiment.id);
  });

  /** Rebuilds an experiment's tallies from its exposure and conversion rows (all in shard 0). */
  async function seedTallies(experimentId: string) {
    const em = api.app.orm.em.fork();
    await em.execute('delete from experiment_exposure_tally where experiment_id = ?', [experimentId]);
    await em.execute('delete from experiment_metric_tally where experiment_id = ?', [experimentId]);
    await em.execute(
      'insert into experiment_exposure_tally (experiment_id, variant, shard, exposures) select experiment_id, variant, 0, count(*) from experiment_exposure where experiment_id = ? group by 1, 2',
      [experimentId],
    );
    await em.execute(
      `insert into experiment_metric_tally (experiment_id, metric, variant, shard, members, value_sum)
       select experiment_id, metric, variant, 0, count(*), sum(value_sum) from experiment_conversion where experiment_id = ? group by 1, 2, 3`,
      [experimentId],
    );
  }

  /** What the tallies must say: the same counts straight from the exposure, conversion and event rows. */
  async function expectTalliesAgree(experimentId: string) {
    const em = api.app.orm.em.fork();
    const [row] = await em.execute<{ bad: number }[]>(
      `select count(*)::int as bad from (
         select variant, count(*)::int as n, null::text as metric, 0::float8 as total from experiment_exposure where experiment_id = ? group by variant
         union all
         select c.variant, count(*)::int, c.metric, sum(c.value_sum) from experiment_conversion c where c.experiment_id = ? group by c.variant, c.metric
         except
         (select variant, sum(exposures)::int, null, 0 from experiment_exposure_tally where experiment_id = ? group by variant
          union all
          select variant, sum(members)::int, metric, sum(value_sum) from experiment_metric_tally where experiment_id = ? group by variant, metric)) d`,
      [experimentId, experimentId, experimentId, experimentId],
    );
    expect(row.bad).toBe(0);
    const [events] = await em.execute<{ bad: number }[]>(
      `select count(*)::int as bad from (select member_id, metric, count(*)::int as n, sum(value) as v from experiment_event where experiment_id = ? group by 1, 2
         except select member_id, metric, events, value_sum from experiment_conversion where experiment_id = ?) d`,
      [experimentId, experimentId],
    );
    expect(events.bad).toBe(0);
  }

  it('computes results with statistics over a seeded experiment, and flags a skewed split', async () => {
    await api.ok(CREATE, { input: twoVariants('seeded') });
    const { id } = (await api.ok(START, { key: 'seeded' })).startExperiment;
    // 4000 members: A gets 2000 exposures with 400 converting, B 2000 with 500; events carry values.
    const em = api.app.orm.em.fork();
    await em.execute(
      `insert into member (id, external_id, nickname, mobile, invite_code, balance, lifetime_earned, joined_at, updated_at)
       select md5('exp-seed-' || i)::uuid, 'exp-' || i, '会员' || i, '137' || lpad(i::text, 8, '0'), 'EX' || lpad(i::text, 8, '0'), 0, 0, now(), now()
       from generate_series(1, 4000) i`,
    );
    await em.execute(
      `insert into experiment_exposure (experiment_id, member_id, variant, exposed_at)
       select ?, md5('exp-seed-' || i)::uuid, case when i <= 2000 then 'A' else 'B' end, now() from generate_series(1, 4000) i`,
      [id],
    );
    // Converting members get two events each (values 1 and 2): conversions count members, not events.
    await em.execute(
      `insert into experiment_event (experiment_id, member_id, variant, metric, value, created_at)
       select ?, md5('exp-seed-' || i)::uuid, case when i <= 2000 then 'A' else 'B' end, 'redeem', v, now()
       from generate_series(1, 4000) i, (values (1.0), (2.0)) vals(v)
       where (i <= 2000 and i <= 400) or (i > 2000 and i <= 2500)`,
      [id],
    );
    // As the service's statements keep them: one conversion row per member, tallies per variant.
    await em.execute(
      `insert into experiment_conversion (experiment_id, metric, member_id, variant, events, value_sum, first_at, last_at)
       select experiment_id, metric, member_id, min(variant), count(*), sum(value), min(created_at), max(created_at) from experiment_event where experiment_id = ? group by 1, 2, 3`,
      [id],
    );
    await seedTallies(id);
    const results = (await api.ok(RESULTS, { key: 'seeded' })).experimentResults;
    const expected = twoProportionTest(400, 2000, 500, 2000);
    expect(results.variants[0]).toMatchObject({ variant: 'A', exposures: 2000, conversions: 400, conversionRate: 0.2, meanValue: 0.6, lift: null, pValue: null });
    expect(results.variants[1]).toMatchObject({ variant: 'B', exposures: 2000, conversions: 500, conversionRate: 0.25, meanValue: 0.75 });
    expect(results.variants[1].lift).toBeCloseTo(0.25, 10);
    expect(results.variants[1].pValue).toBeCloseTo(expected.pValue!, 12);
    expect(results.variants[1].pValue).toBeLessThan(0.001);
    expect(results.variants[1].ciLow).toBeCloseTo(expected.ciLow!, 12);
    expect(results.variants[1].ciHigh).toBeCloseTo(expected.ciHigh!, 12);
    expect(results).toMatchObject({ srmPValue: 1, significant: true, winner: 'B' });

    // 300 more exposures in B only: the split no longer matches 50/50 (SRM), so no winner is called.
    await em.execute(
      `insert into member (id, external_id, nickname, mobile, invite_code, balance, lifetime_earned, joined_at, updated_at)
       select md5('exp-skew-' || i)::uuid, 'skew-' || i, '会员' || i, '136' || lpad(i::text, 8, '0'), 'SK' || lpad(i::text, 8, '0'), 0, 0, now(), now()
       from generate_series(1, 300) i`,
    );
    await em.execute(`insert into experiment_exposure (experiment_id, member_id, variant, exposed_at) select ?, md5('exp-skew-' || i)::uuid, 'B', now() from generate_series(1, 300) i`, [id]);
    await seedTallies(id);
    api.clock.advance(5_001);
    const skewed = (await api.ok(RESULTS, { key: 'seeded' })).experimentResults;
    expect(skewed.srmPValue).toBeLessThan(0.001);
    expect(skewed).toMatchObject({ significant: false, winner: null });
  });
});
