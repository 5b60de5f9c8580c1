import type { ExperimentFields } from '../experiments/experiment.service';

/**
 * The seeds' A/B test (000, ABTestFramework): the copy of the points prompt, value framing (A,
 * the control) against urgency framing (B), split 50/50 and judged on clicks. Clients read the
 * copy from the variant's payload.
 */
export const POINTS_PROMPT_EXPERIMENT = 'points_prompt';

export function demoExperiments(): ExperimentFields[] {
  return [
    {
      key: POINTS_PROMPT_EXPERIMENT,
      name: '积分提示文案:价值感 vs 紧迫感',
      primaryMetric: 'clicked',
      trafficShare: 1,
      variants: [
        { key: 'A', weight: 0.5, payload: { framing: 'value', copy: '您有500积分,可兑换价值¥50的商品!' } },
        { key: 'B', weight: 0.5, payload: { framing: 'urgency', copy: '您有500积分将于30天后过期,快来使用吧!' } },
      ],
    },
  ];
}
