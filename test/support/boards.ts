import type { TestApp } from './app';
import { tokens } from './tokens';
import { collect } from './ws';

export interface PushedBoard {
  period: string;
  totalMembers: number;
  entries: { rank: number; score: number; member: { id: string } }[];
}

const BOARD_FEED = `subscription($period: LeaderboardPeriod, $first: Int) {
  leaderboardChanged(period: $period, first: $first) { period totalMembers entries { rank score member { id } } }
}`;

/**
 * Waits until the board of `period` (its top 100) satisfies `settled`, and resolves with it.
 * Boards are updated after a posting commits, off the request path (LedgerEvents.committed), so a
 * query right after the mutation may not show it yet. Instead of polling the query, this listens
 * to the leaderboard feed on a socket of its own: its first push is the board as it is now, and
 * every update applied later is followed by a push (LEDGER_MOVED is sent once the boards were
 * written). Woken by those pushes; `timeoutMs` only bounds the wait.
 */
export async function untilBoard(api: TestApp, period: 'WEEKLY' | 'MONTHLY' | 'ALL_TIME', settled: (board: PushedBoard) => boolean, timeoutMs = 8000): Promise<PushedBoard> {
  // A subject of its own: the witness never takes a place among the test's admin sockets (WS_MAX_CONNECTIONS_PER_PRINCIPAL).
  const client = api.ws(tokens.admin('board-witness'));
  const feed = collect<PushedBoard>(client, BOARD_FEED, { period, first: 100 }, 'leaderboardChanged');
  try {
    return await feed.until(settled, timeoutMs);
  } finally {
    feed.dispose();
    await client.dispose();
  }
}
