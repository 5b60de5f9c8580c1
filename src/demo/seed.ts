import type { MikroORM } from '@mikro-orm/postgresql';
import { seedLifecycleDemo } from './lifecycle';
import { Decimal } from 'decimal.js';
import type { Services } from '../context';
import type { Principal } from '../auth/principal';
import { Member } from '../members/member.entity';
import { CatalogItem } from '../catalog/catalog.entity';
import { Challenge, Task } from '../tasks/tasks.entity';
import { demoCatalog } from './catalog';
import { demoChallenges, demoTasks } from './tasks';
import { demoExperiments } from './experiments';
import { Experiment } from '../experiments/experiment.entity';

export interface DemoMember {
  mobile: string;
  nickname: string;
  externalId: string;
  /** Lifetime spend after the demo orders below (they add up to it): places the member in a tier. */
  totalSpend: string;
  /** Purchases posted through the ledger, each under the review threshold (10000.00). */
  orders: string[];
  /** externalId of the demo member whose invite code this one registered with. */
  invitedBy?: string;
  checkIn?: boolean;
  /** Tasks the member claims itself. */
  claims?: string[];
  /** Tasks a partner reports for the member. */
  reported?: string[];
}

export const DEMO_MEMBERS: DemoMember[] = [
  { mobile: '13800000001', nickname: '小明', externalId: 'demo-001', totalSpend: '320.00', orders: ['128.00', '192.00'], checkIn: true, claims: ['complete-profile', 'share-mall'] },
  {
    mobile: '13800000002',
    nickname: '小红',
    externalId: 'demo-002',
    totalSpend: '1860.50',
    orders: ['399.00', '1261.50', '200.00'],
    checkIn: true,
    claims: ['follow-official-account'],
    reported: ['write-review'],
  },
  { mobile: '13800000003', nickname: '阿强', externalId: 'demo-003', totalSpend: '7420.00', orders: ['2999.00', '3421.00', '1000.00'], reported: ['weekly-purchase'] },
  {
    mobile: '13800000004',
    nickname: 'Lily',
    externalId: 'demo-004',
    totalSpend: '26888.88',
    orders: ['8888.88', '9999.00', '8001.00'],
    checkIn: true,
    claims: ['share-mall'],
    reported: ['write-review', 'weekly-purchase'],
  },
  { mobile: '13800000005', nickname: '王芳', externalId: 'demo-005', totalSpend: '0.00', orders: [], invitedBy: 'demo-001', checkIn: true },
];

/** Who posts the demo's history: the ledger records it as the source of the entries. */
const SEEDER: Principal = { role: 'admin', subject: 'demo-seed', memberId: null, partnerId: null };

/**
 * Demo data for `npm start` (members with some history, the catalog, tasks and challenges),
 * only into an empty database; returns the demo member ids. Everything goes through the
 * services, so it passes the same validation as an admin's or a partner's request and the
 * ledger, the leaderboards and the challenges see it as they would see real traffic.
 */
export async function seedDemo(orm: MikroORM, services: Services): Promise<{ seeded: boolean; memberIds: string[] }> {
  const em = orm.em.fork();
  const existing = await em.find(Member, { externalId: { $in: DEMO_MEMBERS.map((m) => m.externalId) } }, { orderBy: { externalId: 'asc' } });
  if (existing.length > 0 || (await em.count(Member, {})) > 0) {
    return { seeded: false, memberIds: existing.map((m) => m.id) };
  }
  const members = new Map<string, Member>();
  for (const demo of DEMO_MEMBERS) {
    const inviteCode = demo.invitedBy ? members.get(demo.invitedBy)!.inviteCode : null;
    // With an invite code, both are rewarded (program settings) in the registration's transaction.
    const member = await services.referrals.register(em, { mobile: demo.mobile, nickname: demo.nickname, externalId: demo.externalId, inviteCode });
    members.set(demo.externalId, member);
  }

  // The mall: created through the service, so every demo item passes the same validation as an
  // admin's; skipped if an admin has already stocked it.
  const stocked = await em.count(CatalogItem, {});
  for (const item of stocked > 0 ? [] : demoCatalog(services.challenges.calendar().now)) {
    await services.catalog.create(em, { ...item, cashPrice: item.cashPrice == null ? null : new Decimal(item.cashPrice) });
  }

  // The task wall and this month's challenges, unless an admin has set up their own.
  const taskWall = (await em.count(Task, {})) === 0;
  if (taskWall) {
    for (const task of demoTasks()) await services.tasks.upsertTask(em, task);
  }
  if ((await em.count(Challenge, {})) === 0) {
    const { now, timeZone } = services.challenges.calendar();
    for (const challenge of demoChallenges(now, timeZone)) await services.challenges.upsertChallenge(em, challenge);
  }

  // History, after the challenges exist so that it moves them: orders (tiers, balances, the
  // leaderboards), a check-in today, and demo tasks done (if the demo task wall was seeded).
  let order = 0;
  let review = 0;
  for (const demo of DEMO_MEMBERS) {
    const member = members.get(demo.externalId)!;
    for (const amount of demo.orders) {
      order += 1;
      await services.ledger.earn(em, SEEDER, { memberId: member.id, orderId: `DEMO-ORD-${String(order).padStart(4, '0')}`, amount: new Decimal(amount), category: '商城订单' });
    }
    if (demo.checkIn) await services.checkIns.checkIn(em, member.id);
    if (!taskWall) continue;
    for (const code of demo.claims ?? []) await services.tasks.claimTask(em, member.id, code);
    for (const code of demo.reported ?? []) {
      review += 1;
      await services.tasks.recordCompletion(em, member.id, code, `DEMO-${String(review).padStart(4, '0')}`);
    }
  }

  // The tier year and the RFM segments with their offers (issue 17).
  await seedLifecycleDemo(em, services, { gold: members.get('demo-003')!.id, diamond: members.get('demo-004')!.id });

  // The points-prompt experiment, running: every demo member has seen its copy (one exposure
  // each), and the first two clicked it. Skipped if an admin has set up experiments already.
  if ((await em.count(Experiment, {})) === 0) {
    for (const experiment of demoExperiments()) {
      await services.experiments.create(em, experiment, SEEDER.subject);
      await services.experiments.start(em, experiment.key);
      for (const [i, demo] of DEMO_MEMBERS.entries()) {
        const memberId = members.get(demo.externalId)!.id;
        await services.experiments.variantFor(em, experiment.key, memberId);
        if (i < 2) await services.experiments.track(em, experiment.key, memberId, experiment.primaryMetric, 1);
      }
    }
  }
  return { seeded: true, memberIds: DEMO_MEMBERS.map((d) => members.get(d.externalId)!.id) };
}
