import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { tokens } from '../support/tokens';
import { seedDemo } from '../../src/demo/seed';
import { assignVariant } from '../../src/experiments/experiment.rules';

describe('demo experiment', async () => {
  const api = await startApp();

  it('seeds the points-prompt experiment, running, with the demo members exposed once', async () => {
    api.clock.set(new Date());
    const { seeded, memberIds } = await seedDemo(api.app.orm, api.app.services);
    expect(seeded).toBe(true);
    const { experiments } = await api.ok('{ experiments { key status controlVariant primaryMetric trafficShare variants { key weight payload } } }');
    expect(experiments).toEqual([
      {
        key: 'points_prompt',
        status: 'RUNNING',
        controlVariant: 'A',
        primaryMetric: 'clicked',
        trafficShare: 1,
        variants: [
          { key: 'A', weight: 0.5, payload: { framing: 'value', copy: '您有500积分,可兑换价值¥50的商品!' } },
          { key: 'B', weight: 0.5, payload: { framing: 'urgency', copy: '您有500积分将于30天后过期,快来使用吧!' } },
        ],
      },
    ]);

    // A member's copy is the one its GrowthBook-compatible assignment names, and asking again adds no exposure.
    const [first] = memberIds;
    const { variant } = await api.ok('{ variant(experimentKey: "points_prompt") { variant payload inExperiment } }', {}, tokens.member(first));
    expect(variant.variant).toBe(['A', 'B'][assignVariant({ key: 'points_prompt', weights: [0.5, 0.5], trafficShare: 1 }, first)]);
    expect(variant.inExperiment).toBe(true);
    const results = (await api.ok('{ experimentResults(key: "points_prompt") { metric variants { exposures conversions } } }')).experimentResults;
    expect(results.metric).toBe('clicked');
    expect(results.variants.reduce((n: number, v: any) => n + v.exposures, 0)).toBe(memberIds.length);
    expect(results.variants.reduce((n: number, v: any) => n + v.conversions, 0)).toBe(2);

    // Seeding again changes nothing.
    expect((await seedDemo(api.app.orm, api.app.services)).seeded).toBe(false);
    expect((await api.ok('{ experiments { key } }')).experiments).toHaveLength(1);
  });
});
