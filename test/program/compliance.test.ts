import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';

const DAY = 86_400_000;
const UPDATE = `mutation($input: ProgramSettingsInput!) { updateProgramSettings(input: $input) { validityDays reminderDays } }`;
const REPORT = `{ complianceReport { compliant violations } }`;

const VALIDITY = /^Points are valid (\d+) days; at least 1095 days are required$/;
const FIRST_REMINDER = /^The first expiry reminder is (\d+) days before expiry; at least 7 days are required$/;
const NO_REMINDER = /^No expiry reminders are configured$/;
const UNWARNED = /^(\d+) member\(s\) had points expire without a warning$/;

/**
 * Tests run in order and share one database: the unwarned-expiry count only grows, so the
 * settings-only cases come first. The clock only moves forward.
 */
describe('compliance report', async () => {
  const api = await startApp();
  const settings = (input: Record<string, unknown>) => api.ok(UPDATE, { input });
  const report = async () => (await api.ok(REPORT)).complianceReport as { compliant: boolean; violations: string[] };
  const compliant = { validityDays: 1095, reminderDays: [7, 3, 1] };

  async function unwarnedCount(): Promise<number> {
    const match = (await report()).violations.map((v) => UNWARNED.exec(v)).find(Boolean);
    return match ? Number(match[1]) : 0;
  }

  it('is for admins only', async () => {
    const m = await createMember(api);
    expect(await api.code(REPORT, {}, tokens.member(m.id))).toBe('FORBIDDEN');
    expect(await api.code(REPORT, {}, tokens.partner())).toBe('FORBIDDEN');
  });

  it('flags the default validity (365 days) and nothing else', async () => {
    const r = await report();
    expect(r).toEqual({ compliant: false, violations: [expect.stringMatching(VALIDITY)] });
    expect(r.violations[0]).toContain('365 days');
  });

  it('validity: under 1095 days is flagged; 1095, more, or never expiring is not', async () => {
    await settings({ validityDays: 1094 });
    expect(await report()).toEqual({ compliant: false, violations: ['Points are valid 1094 days; at least 1095 days are required'] });
    await settings({ validityDays: 1 });
    expect((await report()).violations).toEqual(['Points are valid 1 days; at least 1095 days are required']);
    for (const validityDays of [1095, 3650, 0]) {
      await settings({ validityDays });
      expect(await report(), `validityDays ${validityDays}`).toEqual({ compliant: true, violations: [] });
    }
  });

  it('first reminder: under 7 days is flagged, whatever the order of the days; none at all is flagged', async () => {
    await settings(compliant);
    await settings({ reminderDays: [5, 3] });
    expect(await report()).toEqual({ compliant: false, violations: ['The first expiry reminder is 5 days before expiry; at least 7 days are required'] });
    await settings({ reminderDays: [1, 6, 2] });
    expect((await report()).violations).toEqual([expect.stringMatching(FIRST_REMINDER)]);
    expect((await report()).violations[0]).toContain(' 6 days');
    await settings({ reminderDays: [] });
    expect((await report()).violations).toEqual([expect.stringMatching(NO_REMINDER)]);
    for (const reminderDays of [[7], [1, 7], [30, 1], [14, 7, 3, 1]]) {
      await settings({ reminderDays });
      expect(await report(), JSON.stringify(reminderDays)).toEqual({ compliant: true, violations: [] });
    }
    await settings(compliant);
  });

  it('flags a member whose points expired with no warning: no job ran while the lot was in its window', async () => {
    await settings({ ...compliant, reminderDays: [1] });
    const m = await createMember(api);
    await adjust(api, m.id, 100, { validDays: 5 });
    await api.app.jobs.runOnce(); // 5 days left: outside the 1-day window
    expect(await unwarnedCount()).toBe(0);
    api.clock.advance(6 * DAY); // the window passed while no job ran
    const run = (await api.app.jobs.runOnce()) as Record<string, any>;
    expect(run['expiry-warning']).toMatchObject({ warnings: 0 });
    expect(run.expiry).toMatchObject({ members: 1, points: 100 });
    await settings(compliant);
    expect(await report()).toEqual({ compliant: false, violations: ['1 member(s) had points expire without a warning'] });
    await expectReconciled(api);
  });

  it('flags points expired by a money path (not the job) with no warning as well', async () => {
    const m = await createMember(api);
    await adjust(api, m.id, 40, { validDays: 3 });
    api.clock.advance(4 * DAY);
    // The purchase locks the member and expires its due lot first; no job ever saw it.
    const res = await earn(api, m.id, '10.00');
    expect(res.data.earnPoints.member.balance).toBe(10);
    expect(await unwarnedCount()).toBe(2);
    await expectReconciled(api);
  });

  it('does not flag a lot warned and then expired, nor a lot spent before it could expire', async () => {
    await settings({ ...compliant, reminderDays: [1] });
    const warned = await createMember(api);
    await adjust(api, warned.id, 100, { validDays: 5 });
    const spent = await createMember(api);
    await adjust(api, spent.id, 60, { validDays: 5 });
    await adjust(api, spent.id, -60);
    api.clock.advance(4.5 * DAY);
    const warning = (await api.app.jobs.runOnce()) as Record<string, any>;
    expect(warning['expiry-warning']).toMatchObject({ warnings: 1, lots: 1 });
    api.clock.advance(1 * DAY);
    const expiry = (await api.app.jobs.runOnce()) as Record<string, any>;
    expect(expiry.expiry).toMatchObject({ members: 1, points: 100 });
    await settings(compliant);
    expect(await unwarnedCount()).toBe(2);
    await expectReconciled(api);
  });

  it('flags a member with one warned and one unwarned expired lot; counts members, not lots', async () => {
    await settings({ ...compliant, reminderDays: [1] });
    const m = await createMember(api);
    await adjust(api, m.id, 10, { validDays: 2 });
    await adjust(api, m.id, 20, { validDays: 4 });
    await adjust(api, m.id, 30, { validDays: 4 });
    api.clock.advance(1.5 * DAY); // the 2-day lot is in its window: warned
    expect(((await api.app.jobs.runOnce()) as Record<string, any>)['expiry-warning']).toMatchObject({ warnings: 1, lots: 1 });
    api.clock.advance(3 * DAY); // the 4-day lots passed their window unseen
    expect(((await api.app.jobs.runOnce()) as Record<string, any>).expiry).toMatchObject({ members: 1, points: 60 });
    await settings(compliant);
    expect(await unwarnedCount()).toBe(3);
    await expectReconciled(api);
  });

  it('reports every violation together', async () => {
    await settings({ validityDays: 400, reminderDays: [3, 1] });
    const r = await report();
    expect(r.compliant).toBe(false);
    expect(r.violations).toEqual([
      'Points are valid 400 days; at least 1095 days are required',
      'The first expiry reminder is 3 days before expiry; at least 7 days are required',
      '3 member(s) had points expire without a warning',
    ]);
    await settings({ reminderDays: [] });
    expect((await report()).violations).toEqual([expect.stringMatching(VALIDITY), expect.stringMatching(NO_REMINDER), expect.stringMatching(UNWARNED)]);
    await settings({ validityDays: 365, reminderDays: [7, 3, 1] });
  });
});
