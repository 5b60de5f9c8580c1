import type { MikroORM } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Services } from '../context';
import { Member } from '../members/member.entity';
import { CatalogItem } from '../catalog/catalog.entity';
import { demoCatalog } from './catalog';

export const DEMO_MEMBERS = [
  { mobile: '13800000001', nickname: '小明', externalId: 'demo-001', totalSpend: '320.00' },
  { mobile: '13800000002', nickname: '小红', externalId: 'demo-002', totalSpend: '1860.50' },
  { mobile: '13800000003', nickname: '阿强', externalId: 'demo-003', totalSpend: '7420.00' },
  { mobile: '13800000004', nickname: 'Lily', externalId: 'demo-004', totalSpend: '26888.88' },
  { mobile: '13800000005', nickname: '王芳', externalId: 'demo-005', totalSpend: '0.00' },
];

/** Demo data for `npm start` (members and the catalog), only into an empty database; returns the demo member ids. */
export async function seedDemo(orm: MikroORM, services: Services): Promise<{ seeded: boolean; memberIds: string[] }> {
  const em = orm.em.fork();
  const existing = await em.find(Member, { externalId: { $in: DEMO_MEMBERS.map((m) => m.externalId) } }, { orderBy: { externalId: 'asc' } });
  if (existing.length > 0 || (await em.count(Member, {})) > 0) {
    return { seeded: false, memberIds: existing.map((m) => m.id) };
  }
  const ids: string[] = [];
  for (const demo of DEMO_MEMBERS) {
    const member = await services.members.register(em, { mobile: demo.mobile, nickname: demo.nickname, externalId: demo.externalId });
    // Lifetime spend stands in for purchase history until orders are posted through the ledger.
    await em.nativeUpdate(Member, { id: member.id }, { totalSpend: demo.totalSpend });
    ids.push(member.id);
  }
  // The mall: created through the service, so every demo item passes the same validation as an
  // admin's; skipped if an admin has already stocked it.
  const stocked = await em.count(CatalogItem, {});
  for (const item of stocked > 0 ? [] : demoCatalog()) {
    await services.catalog.create(em, { ...item, cashPrice: item.cashPrice == null ? null : new Decimal(item.cashPrice) });
  }
  return { seeded: true, memberIds: ids };
}
