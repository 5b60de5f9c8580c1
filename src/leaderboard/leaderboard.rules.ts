import { periodAt, type Period, type PeriodKind } from '../platform/time';
import { heldTierOf, type TierLike } from '../members/member.rules';

export const PERIODS: PeriodKind[] = ['ALL_TIME', 'MONTHLY', 'WEEKLY'];

/**
 * Redis key of a period's board (the client adds the deployment prefix). The braces are a Redis
 * Cluster hash tag: the board, its `:at` and its `:rebuild:<uuid>` staging copy hash to one slot,
 * so the rebuild's RENAME and the EXISTS of both stay on one shard.
 */
export const boardKey = (period: Period) => (period.kind === 'ALL_TIME' ? '{lb:ALL_TIME}' : `{lb:${period.kind}:${period.key}}`);

export interface ScoredEntry {
  member_id: string;
  type: string;
  status: string;
  delta: number;
  posted_at: Date | string | null;
  created_at: Date | string;
}

/**
 * Contract: boards rank by points earned in the period, PURCHASE and REWARD credits; a
 * REVERSAL takes its points off; spending, refunds, expiry and adjustments do not move a rank.
 */
export function scoreDelta(entry: Pick<ScoredEntry, 'type' | 'status' | 'delta'>): number {
  if (entry.status !== 'POSTED') return 0;
  if (entry.type === 'PURCHASE' || entry.type === 'REWARD' || entry.type === 'REVERSAL') return entry.delta;
  return 0;
}

/** Score changes per board key for a batch of postings, each in the periods of its posting time. */
export function boardIncrements(entries: ScoredEntry[], timeZone: string): Map<string, { period: Period; scores: Map<string, number> }> {
  const boards = new Map<string, { period: Period; scores: Map<string, number> }>();
  for (const entry of entries) {
    const delta = scoreDelta(entry);
    if (delta === 0) continue;
    const at = new Date(entry.posted_at ?? entry.created_at);
    for (const kind of PERIODS) {
      const period = periodAt(kind, at, timeZone);
      const key = boardKey(period);
      const board = boards.get(key) ?? { period, scores: new Map<string, number>() };
      board.scores.set(entry.member_id, (board.scores.get(entry.member_id) ?? 0) + delta);
      boards.set(key, board);
    }
  }
  return boards;
}

/**
 * Competition ranking ("1224"): tied scores share a rank, the next distinct score skips the
 * shared places. Rank = 1 + members with a strictly higher score, so it is the same however
 * Redis orders ties (README: leaderboard ties).
 */
export function competitionRanks(scores: number[]): number[] {
  const ranks: number[] = [];
  for (let i = 0; i < scores.length; i++) ranks.push(i > 0 && scores[i] === scores[i - 1] ? ranks[i - 1] : i + 1);
  return ranks;
}

/** Share of ranked members at or above this rank, in percent, to one decimal. */
export function topPercent(rank: number, total: number): number {
  return total > 0 ? Math.round((rank / total) * 1000) / 10 : 100;
}

/** A member as a board shows them: the tier is the stored tier_level, mapped onto the tier set. */
export interface BoardMemberRow {
  id: string;
  nickname: string;
  tierLevel: number;
}

export interface BoardEntryValue {
  rank: number;
  score: number;
  member: BoardMemberRow;
}

/**
 * A computed board's entries as shown, in rank order: members who no longer exist are left out,
 * and each member's tier is the tier of the set it holds (heldTierOf). One mapping for the
 * leaderboard query and the leaderboardChanged feed, so the two never show a member differently.
 */
export function boardEntries(entries: readonly { rank: number; score: number; memberId: string }[], members: ReadonlyMap<string, BoardMemberRow>, tiers: TierLike[]): BoardEntryValue[] {
  return entries.flatMap((entry) => {
    const member = members.get(entry.memberId);
    if (!member) return [];
    return [{ rank: entry.rank, score: entry.score, member: { id: member.id, nickname: member.nickname, tierLevel: heldTierOf(tiers, member.tierLevel).level } }];
  });
}
