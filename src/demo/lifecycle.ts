import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../context';
import { SEGMENT_BOOSTS, SEGMENTS, SEGMENT_KEYS } from '../members/segment.rules';
import { addMonths } from '../lifecycle/tier.rules';

/** The seed's offer per RFM segment (seed 001 §3.1): one earning rule each, limited to that segment. */
export function demoSegmentRules() {
  return SEGMENT_KEYS.map((key) => ({
    name: `${SEGMENTS[key]}积分加成 ×${SEGMENT_BOOSTS[key]}`,
    multiplier: SEGMENT_BOOSTS[key],
    bonusPoints: 0,
    weekdays: [],
    categories: [],
    firstOrderOnly: false,
    segments: [key],
    active: true,
  }));
}

/**
 * The tier year on the demo members (README: member lifecycle): 小明 at the base tier (no year),
 * 小红 silver in its first year, 阿强 gold in grace (its year ended a month ago: a demo shortcut
 * in SQL, as a year cannot pass during `npm start`), Lily diamond kept by an approved protection,
 * 王芳 at the base tier. Then the RFM job
 * once, so the members who bought have a segment (all 新会员: they joined today).
 */
export async function seedLifecycleDemo(em: EntityManager, services: Services, ids: { gold: string; diamond: string }) {
  for (const rule of demoSegmentRules()) await services.earningRules.create(em, rule);
  const now = services.challenges.calendar().now;
  await em.execute('update member set tier_valid_until = ?, tier_grace_until = ? where id = ?', [addMonths(now, -1), addMonths(now, 2), ids.gold]);
  const application = await services.tiers.applyProtection(em, ids.diamond, '年度出差较多,申请保级');
  await services.tiers.reviewProtection(em, application.id, true, '老会员,予以保级', 'demo-seed');
  await services.segments.run(em);
}
