import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember, MEMBER_FIELDS } from '../support/factories';
import { tokens } from '../support/tokens';

describe('members', async () => {
  const api = await startApp();

  it('lists the four default tiers', async () => {
    const data = await api.ok('{ tiers { level name minSpend multiplier } }');
    expect(data.tiers).toEqual([
      { level: 1, name: '普通会员', minSpend: '0.00', multiplier: 1 },
      { level: 2, name: '银卡会员', minSpend: '1000.00', multiplier: 1.2 },
      { level: 3, name: '金卡会员', minSpend: '5000.00', multiplier: 1.5 },
      { level: 4, name: '钻石会员', minSpend: '20000.00', multiplier: 2 },
    ]);
  });

  it('registers a member who can read itself', async () => {
    const m = await createMember(api, { nickname: '小明' });
    const data = await api.ok(`{ me { ${MEMBER_FIELDS} } }`, {}, m.token);
    expect(data.me).toMatchObject({ id: m.id, nickname: '小明', mobile: m.mobile, balance: 0, tier: { level: 1 } });
  });
});
