import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from '@apollo/client/react';
import { AdminDashboardDocument, LeaderboardChangedDocument, ProgramStatsUpdatedDocument, type ProgramStatsUpdatedSubscription } from '../../../schema/generated/graphql';
import type { ExampleClient } from '../../shared/client';
import { ConnectionDot } from '../../shared/ConnectionDot';
import { StatsChart, type Sample } from './Chart';

type Stats = ProgramStatsUpdatedSubscription['programStatsUpdated'];
const MAX_SAMPLES = 120;

const FIGURES: { key: keyof Stats; label: string; format?: (v: number) => string }[] = [
  { key: 'members', label: 'Members' },
  { key: 'activeMembers30d', label: 'Active (30d)' },
  { key: 'outstandingPoints', label: 'Outstanding points' },
  { key: 'pointsIssued30d', label: 'Issued (30d)' },
  { key: 'pointsRedeemed30d', label: 'Redeemed (30d)' },
  { key: 'pointsExpired30d', label: 'Expired (30d)' },
  { key: 'redemptionRate', label: 'Redemption rate', format: (v) => `${(v * 100).toFixed(1)} %` },
  { key: 'redemptions24h', label: 'Redemptions (24h)' },
];

/**
 * The operations page: the first figures come from the AdminDashboard query, then
 * programStatsUpdated (pushed while the ledger moves, at most every STATS_INTERVAL_MS) and
 * leaderboardChanged keep it current without a reload. Both share the one socket.
 */
export function Dashboard({ client }: { client: ExampleClient }) {
  const initial = useQuery(AdminDashboardDocument, { variables: { first: 10 } });
  const live = useSubscription(ProgramStatsUpdatedDocument);
  const board = useSubscription(LeaderboardChangedDocument, { variables: { first: 10 } });
  const [samples, setSamples] = useState<Sample[]>([]);
  const [updates, setUpdates] = useState(0);
  const stats: Stats | undefined = live.data?.programStatsUpdated ?? initial.data?.programStats;

  useEffect(() => {
    if (!stats) return;
    // x: when the page received the figures (the server's `at` may repeat between pushes).
    setSamples((list) => [...list, { at: Date.now() / 1000, issued: Number(stats.pointsIssued30d), redeemed: Number(stats.pointsRedeemed30d) }].slice(-MAX_SAMPLES));
    if (live.data) setUpdates((n) => n + 1);
  }, [stats, live.data]);

  const leaderboard = board.data?.leaderboardChanged ?? initial.data?.leaderboard;
  return (
    <div className="dashboard">
      <header>
        <h1>运营看板 · Operations</h1>
        <span>
          <span className="muted" style={{ color: 'inherit' }} data-testid="updates">
            {updates} live updates
          </span>{' '}
          <ConnectionDot client={client} />
        </span>
      </header>
      <main>
        {(initial.error || live.error) && <div className="card warn">{(initial.error ?? live.error)!.message}</div>}
        <section className="stats">
          {FIGURES.map(({ key, label, format }) => (
            <div className="card stat" key={key}>
              <div className="muted">{label}</div>
              <div className="value" data-testid={`stat-${key}`}>
                {stats ? (format ? format(Number(stats[key])) : Number(stats[key]).toLocaleString()) : '…'}
              </div>
            </div>
          ))}
        </section>
        <section className="card">
          <b>Points issued and redeemed, last 30 days (live)</b>
          <StatsChart samples={samples} />
          {stats && <div className="muted">as of {new Date(stats.at).toLocaleTimeString()}</div>}
        </section>
        <section className="card">
          <b>Leaderboard (all time)</b> <span className="muted">{leaderboard?.totalMembers ?? '…'} members</span>
          <table data-testid="leaderboard">
            <tbody>
              {leaderboard?.entries.map((e) => (
                <tr key={e.member.id}>
                  <td>#{e.rank}</td>
                  <td>{e.member.nickname}</td>
                  <td>{e.score.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </main>
    </div>
  );
}
