/**
 * RFM segments (issue 17, seed 001 §3.1). The key is the segment's one stable name: the API
 * shows it (Member.segment, SegmentStats.name) and earning rules name it (EarningRule.segments).
 * The seed's Chinese names are labels of these keys.
 */
export const SEGMENTS = {
  at_risk: '流失风险',
  high_value_active: '高价值活跃',
  infrequent_big_spender: '低频高消',
  new_member: '新会员',
  growing: '潜力成长',
} as const;

export type SegmentKey = keyof typeof SEGMENTS;
export const SEGMENT_KEYS = Object.keys(SEGMENTS) as SegmentKey[];
export const isSegmentKey = (value: string): value is SegmentKey => value in SEGMENTS;

/** The seed's points boost per segment, as the demo's earning rules give it. */
export const SEGMENT_BOOSTS: Record<SegmentKey, number> = {
  at_risk: 2.0,
  high_value_active: 1.5,
  infrequent_big_spender: 1.2,
  new_member: 3.0,
  growing: 1.5,
};

/** Members who joined this recently are 新会员 whatever their scores. */
export const NEW_MEMBER_DAYS = 30;

export interface RfmScores {
  /** 1..5, 5 = bought most recently. */
  r: number;
  /** 1..5, 5 = most purchases in the window. */
  f: number;
  /** 1..5, 5 = most spend in the window. */
  m: number;
}

/**
 * Scores are quintiles over the active population (members with a posted purchase in the last
 * 90 days): score = ceil(5 × cume_dist), cume_dist being the share of active members whose value
 * is at most this one's (for recency: whose last purchase is at most as recent). Ties share a
 * score, and the scores depend on the values only, so a run is deterministic.
 */
export function quintile(rankAtMost: number, population: number): number {
  return Math.max(1, Math.min(5, Math.ceil((5 * rankAtMost) / population)));
}

/** The first rule that matches, in this order, names the segment. */
export function segmentOf(scores: RfmScores, joinedDaysAgo: number): SegmentKey {
  if (joinedDaysAgo < NEW_MEMBER_DAYS) return 'new_member';
  if (scores.r <= 2) return 'at_risk';
  if (scores.f >= 4 && scores.m >= 4) return 'high_value_active';
  if (scores.m >= 4 && scores.f <= 2) return 'infrequent_big_spender';
  return 'growing';
}
