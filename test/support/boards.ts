import type { PeriodKind } from '../../src/platform/time';
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
 * every update applied later that changes the top 100 is followed by a push (LEDGER_MOVED is sent
 * once the boards were written). `settled` runs on each push (it may query the API: the push says
 * the writes before it are applied); `timeoutMs` only bounds the wait.
 */
export async function untilBoard(api: TestApp, period: PeriodKind, settled: (board: PushedBoard) => boolean | Promise<boolean>, timeoutMs = 8000): Promise<PushedBoard> {
  // A subject of its own: the witness never takes a place among the test's admin sockets (WS_MAX_CONNECTIONS_PER_PRINCIPAL).
  const client = api.ws(tokens.admin('board-witness'));
  const feed = collect<PushedBoard>(client, BOARD_FEED, { period, first: 100 }, 'leaderboardChanged');
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const board = await feed.next(Math.max(1, deadline - Date.now())).catch((error: unknown) => {
        throw new Error(`the ${period} board did not settle within ${timeoutMs} ms; last pushed: ${JSON.stringify(feed.events.at(-1))?.slice(0, 2000)} (${String(error)})`);
      });
      if (await settled(board)) return board;
    }
  } finally {
    feed.dispose();
    await client.dispose();
  }
}
