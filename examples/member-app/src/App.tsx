import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import {
  CatalogPageDocument,
  CheckInDocument,
  CheckInStatusDocument,
  ClaimTaskDocument,
  HomeDocument,
  LeaderboardDocument,
  MarkNotificationsReadDocument,
  NotificationsDocument,
  QuickRedeemDocument,
  TaskWallDocument,
} from '../../../schema/generated/graphql';
import type { ExampleClient } from '../../shared/client';
import { ConnectionDot } from '../../shared/ConnectionDot';
import { useLiveMember } from './live';
import { useOneTapRedeem } from './redeem';

const SCREENS = { home: '首页 Home', catalog: '兑换 Catalog', checkin: '签到 Check-in', tasks: '任务 Tasks', board: '排行 Board', inbox: '消息 Inbox' } as const;
type Screen = keyof typeof SCREENS;

export function App({ client }: { client: ExampleClient }) {
  const [screen, setScreen] = useState<Screen>(() => (new URLSearchParams(location.search).get('screen') as Screen) || 'home');
  const { expiring, dismissExpiring } = useLiveMember();
  const home = useQuery(HomeDocument);
  const me = home.data?.me;
  return (
    <>
      <header>
        <h1>积分商城</h1>
        <span>
          <b data-testid="header-balance">{me ? `${me.balance.toLocaleString()} 积分` : '…'}</b> <ConnectionDot client={client} />
        </span>
      </header>
      <nav>
        {(Object.keys(SCREENS) as Screen[]).map((key) => (
          <button key={key} aria-current={key === screen ? 'page' : undefined} onClick={() => setScreen(key)}>
            {SCREENS[key]}
          </button>
        ))}
      </nav>
      <main>
        {expiring && (
          <div className="card warn" role="alert" data-testid="expiring-live">
            <b>{expiring.points} points expire in {expiring.daysLeft} days.</b> {expiring.message}{' '}
            <button onClick={() => setScreen('catalog')}>Redeem now</button> <button onClick={dismissExpiring}>×</button>
          </div>
        )}
        {home.error && <div className="card warn">{home.error.message}</div>}
        {screen === 'home' && <Home />}
        {screen === 'catalog' && <Catalog />}
        {screen === 'checkin' && <CheckIn />}
        {screen === 'tasks' && <Tasks />}
        {screen === 'board' && <Board myId={me?.id} />}
        {screen === 'inbox' && <Inbox />}
      </main>
    </>
  );
}

function Home() {
  const { data, loading } = useQuery(HomeDocument);
  const me = data?.me;
  if (loading && !me) return <p>Loading…</p>;
  if (!me) return <p>No member behind this token.</p>;
  return (
    <>
      <section className="card">
        <div className="muted">{me.nickname}, your balance</div>
        <div className="big" data-testid="balance">
          {me.balance.toLocaleString()}
        </div>
        <div className="muted">{me.lifetimeEarned.toLocaleString()} earned in total</div>
      </section>
      <section className="card">
        <div>
          Tier <b data-testid="tier">{me.tier.name}</b> (×{me.tier.multiplier})
        </div>
        {me.nextTier ? (
          <>
            <div className="bar" aria-label="tier progress">
              <div style={{ width: `${Math.round(me.nextTier.progress * 100)}%` }} />
            </div>
            <div className="muted">
              Spend ¥{me.nextTier.spendNeeded} more to reach {me.nextTier.tier.name}
            </div>
          </>
        ) : (
          <div className="muted">Top tier reached.</div>
        )}
      </section>
      {me.expiringPoints.points > 0 && (
        <section className="card warn" data-testid="expiring">
          <b>{me.expiringPoints.points.toLocaleString()} points</b> expire within 30 days
          {me.expiringPoints.daysUntilEarliest !== null && <> (the first in {me.expiringPoints.daysUntilEarliest} days)</>}. Redeem them before they are gone.
        </section>
      )}
    </>
  );
}

function Catalog() {
  const quick = useQuery(QuickRedeemDocument);
  const catalog = useQuery(CatalogPageDocument, { variables: { first: 12 } });
  const { tap, pendingItem, outcome, clear } = useOneTapRedeem();
  return (
    <>
      {outcome && (
        <section className={`card ${outcome.error ? 'warn' : 'ok'}`} role="status" data-testid="redeem-confirmation">
          {outcome.result ? (
            <>
              <b>Redeemed: {outcome.itemName}</b> ({outcome.result.redemption.pointsSpent} points, {outcome.result.redemption.status.toLowerCase()})
              <div>
                Remaining: <b data-testid="remaining">{outcome.result.remainingPoints.toLocaleString()}</b> points
              </div>
              {outcome.result.redemption.coupons.map((c) => (
                <div key={c.code}>
                  Coupon <code>{c.code}</code>, valid until {new Date(c.expiresAt).toLocaleDateString()}
                </div>
              ))}
            </>
          ) : (
            <b>Could not redeem {outcome.itemName}: {outcome.error}</b>
          )}{' '}
          <button onClick={clear}>OK</button>
        </section>
      )}
      {quick.data && (
        <section className="card">
          <b>Quick redeem</b> <span className="muted">with your {quick.data.quickRedeemOptions.balance.toLocaleString()} points</span>
          {quick.data.quickRedeemOptions.expiryWarning && <div className="warn">{quick.data.quickRedeemOptions.expiryWarning}</div>}
          {quick.data.quickRedeemOptions.options.map((o) => (
            <div key={o.item.id} style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginTop: 8 }}>
              <span>
                {o.item.name} · {o.item.pointsPrice}{o.cashDue ? ` + ¥${o.cashDue}` : ''} <span className="muted">→ {o.remainingAfter} left</span>
              </span>
              <button className="primary" disabled={!o.canRedeem || pendingItem !== null} onClick={() => void tap(o.item)}>
                {pendingItem === o.item.id ? '…' : 'Redeem'}
              </button>
            </div>
          ))}
        </section>
      )}
      <div className="grid">
        {catalog.data?.catalog.edges.map(({ node }) => (
          <article className="card" key={node.id} data-testid="catalog-item" data-sku={node.sku}>
            <div>
              <b>{node.name}</b>
            </div>
            <div className="muted">
              {node.category} · {node.stock} left
            </div>
            <div>
              {node.pointsPrice.toLocaleString()} points{node.cashPrice ? ` + ¥${node.cashPrice}` : ''}
            </div>
            {/* Not disabled while a tap is in flight: a double tap must reach the guard, which ignores the second. */}
            <button className="primary" disabled={!node.redeemable} onClick={() => void tap(node)}>
              {pendingItem === node.id ? 'Redeeming…' : 'Redeem'}
            </button>
          </article>
        ))}
      </div>
      {catalog.loading && <p>Loading…</p>}
    </>
  );
}

function CheckIn() {
  const status = useQuery(CheckInStatusDocument);
  const [checkIn, result] = useMutation(CheckInDocument, { refetchQueries: ['CheckInStatus', 'Home'] });
  const s = status.data?.checkInStatus;
  return (
    <section className="card">
      {s && (
        <>
          <div>
            Streak: <b data-testid="streak">{s.streak}</b> days · {s.monthDays.length} days this month
          </div>
          <button className="primary" disabled={s.checkedInToday || result.loading} onClick={() => void checkIn().catch(() => {})}>
            {s.checkedInToday ? 'Checked in today ✓' : `Check in (+${s.nextReward})`}
          </button>
        </>
      )}
      {result.data && (
        <p className="ok" data-testid="checkin-result">
          +{result.data.checkIn.pointsAwarded} points, streak {result.data.checkIn.streak}
        </p>
      )}
      {result.error && <p className="warn">{result.error.message}</p>}
    </section>
  );
}

function Tasks() {
  const wall = useQuery(TaskWallDocument);
  const [claim, claiming] = useMutation(ClaimTaskDocument, { refetchQueries: ['TaskWall', 'Home'] });
  return (
    <>
      {claiming.error && <div className="card warn">{claiming.error.message}</div>}
      {wall.data?.tasks.map((t) => (
        <section className="card" key={t.task.code}>
          <b>{t.task.name}</b> <span className="muted">+{t.task.points} · {t.task.frequency.toLowerCase()}</span>
          <div className="muted">{t.task.description}</div>
          {t.completedThisPeriod ? (
            <span>Done ✓</span>
          ) : t.task.selfClaimable ? (
            <button className="primary" disabled={claiming.loading} onClick={() => void claim({ variables: { code: t.task.code } }).catch(() => {})}>
              Claim
            </button>
          ) : (
            <span className="muted">Completes automatically</span>
          )}
        </section>
      ))}
    </>
  );
}

function Board({ myId }: { myId?: string }) {
  const { data } = useQuery(LeaderboardDocument, { variables: { first: 10 } });
  if (!data) return <p>Loading…</p>;
  return (
    <section className="card">
      {data.myRank && (
        <p data-testid="my-rank">
          You are <b>#{data.myRank.rank}</b> of {data.leaderboard.totalMembers} (top {data.myRank.topPercent}%)
          {data.myRank.pointsToNextRank !== null && <>, {data.myRank.pointsToNextRank} points to the next rank</>}
        </p>
      )}
      <table>
        <tbody>
          {data.leaderboard.entries.map((e) => (
            <tr key={e.member.id} className={e.member.id === myId ? 'me' : undefined}>
              <td>#{e.rank}</td>
              <td>{e.member.nickname}</td>
              <td>{e.score.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Inbox() {
  const { data } = useQuery(NotificationsDocument, { variables: { first: 20 } });
  const [markRead] = useMutation(MarkNotificationsReadDocument, { refetchQueries: ['Notifications'] });
  const unread = data?.notifications.edges.filter((e) => !e.node.readAt).map((e) => e.node.id) ?? [];
  return (
    <>
      {unread.length > 0 && <button onClick={() => void markRead({ variables: { ids: unread } })}>Mark {unread.length} read</button>}
      {data?.notifications.edges.map(({ node }) => (
        <section className="card" key={node.id} style={{ opacity: node.readAt ? 0.6 : 1 }}>
          <b>{node.title}</b> <span className="muted">{new Date(node.createdAt).toLocaleString()}</span>
          <div>{node.body}</div>
        </section>
      ))}
      {data && data.notifications.edges.length === 0 && <p className="muted">No notifications.</p>}
    </>
  );
}
