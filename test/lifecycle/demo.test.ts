import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { seedDemo } from '../../src/demo/seed';

const STATUS = '{ me { nickname segment tier { level } tierStatus { inGrace validUntil protectedUntil keepSpend } tierProtections { status } } }';

describe('demo member lifecycle', async () => {
  const api = await startApp();

  it('shows each tier state and the seed’s segment offers', async () => {
    api.clock.set(new Date());
    const { memberIds } = await seedDemo(api.app.orm, api.app.services);
    const [xiaoming, xiaohong, aqiang, lily] = await Promise.all(memberIds.slice(0, 4).map(async (id) => (await api.ok(STATUS, {}, tokens.member(id))).me));
    expect(xiaoming).toMatchObject({ tier: { level: 1 }, tierStatus: { inGrace: false, validUntil: null }, segment: 'new_member' });
    expect(xiaohong).toMatchObject({ tier: { level: 2 }, tierStatus: { inGrace: false, protectedUntil: null } });
    expect(xiaohong.tierStatus.validUntil).not.toBeNull();
    expect(aqiang).toMatchObject({ tier: { level: 3 }, tierStatus: { inGrace: true } });
    expect(lily).toMatchObject({ tier: { level: 4 }, tierProtections: [{ status: 'APPROVED' }] });
    expect(lily.tierStatus.protectedUntil).not.toBeNull();

    const rules = (await api.ok('{ earningRules { name multiplier segments } }', {}, tokens.admin())).earningRules.filter((r: any) => r.segments.length);
    expect(rules.map((r: any) => [r.segments[0], r.multiplier]).sort()).toEqual([
      ['at_risk', 2],
      ['growing', 1.5],
      ['high_value_active', 1.5],
      ['infrequent_big_spender', 1.2],
      ['new_member', 3],
    ]);
    await expectReconciled(api);
  });
});
