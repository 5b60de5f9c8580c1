// The member-lifecycle part of the jobs suite (issue 17): the tier evaluation and the RFM
// segment job over 200,000 members, each in its own child process, against a same-run baseline
// (one bare SQL statement reading what the job must read), then checked against the seed.
import { withClient } from './db.mjs';
import { BULK_LOAD_SESSION, timedSteps } from './seed.mjs';

const DAY_MS = 86_400_000;

/**
 * 200k members, two posted PURCHASE entries (with their lots and purchase rows) for half of them,
 * one for the other half; purchases spread over the last year (hash of i), so about 60 % are
 * active in the last 90 days. Tier states by i % 3: 0 = silver whose year ended an hour ago
 * (kept when its 12-month spend reaches 1000, else grace), 1 = gold whose grace ended an hour
 * ago (kept, or lowered to what 12-month spend reaches), 2 = base tier, never due.
 * Balances equal the lots: the reconciliation holds.
 */
export async function seedLifecycle(url, members, now) {
  const joined = new Date(now.getTime() - 400 * DAY_MS);
  const { timings, step } = timedSteps();
  await withClient(url, async (c) => {
    await c.query(BULK_LOAD_SESSION);
    await step('members', () =>
      c.query(
        `insert into member (id, external_id, nickname, mobile, invite_code, joined_at, updated_at, tier_level, tier_valid_until, tier_grace_until)
         select md5('life-bench-' || i)::uuid, 'lb-' || i, '会员' || i, '138' || lpad(i::text, 8, '0'), 'LB' || lpad(i::text, 8, '0'), $2, $2,
                case i % 3 when 0 then 2 when 1 then 3 else 1 end,
                case i % 3 when 0 then $3::timestamptz - interval '1 hour' when 1 then $3::timestamptz - interval '3 months' else null end,
                case i % 3 when 1 then $3::timestamptz - interval '1 hour' else null end
         from generate_series(1, $1::int) i`,
        [members, joined, now],
      ),
    );
    // Purchase k (1..2) of member i: amount 100..2090, k = 2 only for even i; days ago from a hash.
    await step('purchases', () =>
      c.query(
        `with p as (
           select i, k, md5('life-bench-' || i)::uuid as member_id, (100 + ((i * 7919 + k * 104729) % 200) * 10)::numeric(14,2) as amount,
                  $2::timestamptz - ((1 + ((i::bigint * 2654435761 + k * 40503) % 4294967296) % 360) * interval '1 day') as at
           from generate_series(1, $1::int) i cross join generate_series(1, 2) k where k = 1 or i % 2 = 0
         ), e as (
           insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
           select member_id, 'PURCHASE', 'POSTED', amount::int, 0, 'lb-' || i || '-' || k, 'bench:seed', '基准订单', null, at, at, 'lb-' || i || '-' || k
           from p order by i, k
           returning id, member_id, delta, idempotency_key, created_at
         ), l as (
           insert into points_lot (member_id, entry_id, amount, remaining, expires_at) select member_id, id, delta, delta, null from e
         )
         insert into purchase (partner_id, order_id, member_id, amount, occurred_at, entry_id, points, created_at)
         select '', e.idempotency_key, e.member_id, e.delta, e.created_at, e.id, e.delta, e.created_at from e`,
        [members, now],
      ),
    );
    await step('balances', () =>
      c.query(
        `update member m set balance = s.points, lifetime_earned = s.points, total_spend = s.spend
         from (select member_id, sum(delta)::int as points, sum(delta)::numeric(14,2) as spend from ledger_entry group by member_id) s where m.id = s.member_id`,
      ),
    );
    await c.query('set session_replication_role = origin');
    await step('vacuum analyze', () => c.query('vacuum analyze'));
  });
  return timings;
}

/** What the jobs must do, from the seed. */
export async function lifecycleExpectations(url, now) {
  return withClient(url, async (c) => {
    const [row] = (
      await c.query(
        `select (select count(*)::int from member where (tier_grace_until is null and tier_valid_until <= $1) or tier_grace_until <= $1) as due,
                (select count(distinct member_id)::int from purchase where occurred_at > $1::timestamptz - interval '90 days') as active`,
        [now],
      )
    ).rows;
    return row;
  });
}

/** The baselines: one bare statement each that reads what the job reads (the floor of its SQL). */
export async function lifecycleBaselines(url, now) {
  return withClient(url, async (c) => {
    const time = async (sql, params) => {
      const t = process.hrtime.bigint();
      await c.query(sql, params);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const tierMs = await time(
      `select count(*), sum(s.spend12) from member m
       left join lateral (select sum(p.amount - p.refunded_amount) as spend12 from purchase p where p.member_id = m.id and p.occurred_at > $1::timestamptz - interval '12 months') s on true
       where (m.tier_grace_until is null and m.tier_valid_until <= $1) or m.tier_grace_until <= $1`,
      [now],
    );
    const rfmMs = await time(
      `select count(*), sum(f) from (select member_id, count(*) as f, sum(amount) as m, max(occurred_at) as r from purchase where occurred_at > $1::timestamptz - interval '90 days' group by member_id) x`,
      [now],
    );
    return { 'tier-evaluation': tierMs, 'rfm-segments': rfmMs };
  });
}

/** After the jobs: nothing due is left, every active member has a segment and one history row, the ledger reconciles. */
export async function verifyLifecycle(url, now, expected, runs, reconciliationSql) {
  return withClient(url, async (c) => {
    const one = async (sql, params = []) => (await c.query(sql, params)).rows[0];
    const problems = [];
    const stillDue = (await one(`select count(*)::int as n from member where (tier_grace_until is null and tier_valid_until <= $1) or tier_grace_until <= $1`, [now])).n;
    if (stillDue !== 0) problems.push(`${stillDue} members still due after the tier evaluation`);
    const tier = runs['tier-evaluation'].result;
    if (tier.members !== expected.due) problems.push(`tier evaluation decided ${tier.members} members, ${expected.due} were due`);
    const notes = (await one(`select count(*)::int as n from notification where kind = 'TIER_CHANGE'`)).n;
    if (notes !== expected.due) problems.push(`TIER_CHANGE notifications: ${notes}, expected ${expected.due}`);
    const rfm = runs['rfm-segments'].result;
    if (rfm.active !== expected.active) problems.push(`RFM scored ${rfm.active} members, ${expected.active} were active`);
    const segmented = (await one('select count(*)::int as n from member where segment is not null')).n;
    const history = (await one('select count(*)::int as n from segment_change')).n;
    if (segmented !== expected.active || history !== expected.active) problems.push(`segments: ${segmented} members, ${history} history rows, expected ${expected.active}`);
    const discrepancies = (await c.query(reconciliationSql)).rows.length;
    if (discrepancies) problems.push(`reconciliation: ${discrepancies} discrepancies`);
    const bySegment = (await c.query('select segment, count(*)::int as n from member where segment is not null group by 1 order by 1')).rows;
    return { problems, bySegment, tierResult: tier };
  });
}
