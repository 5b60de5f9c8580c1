import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { HEALTH_THRESHOLDS } from '../../src/program/health.rules';

const root = path.resolve(__dirname, '../..');
const ALERTS = path.join(root, 'ops/prometheus/alerts.yml');
/** promtool unit tests: minute-scale alerts, and the day- and month-long windows (evaluated every 10 minutes). */
const ALERT_TESTS = ['alerts.test.yml', 'alerts.long.test.yml'].map((f) => path.join(root, 'ops/prometheus', f));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alert_rule_test: { alertname: string; exp_alerts?: unknown[] }[];
}

const rules: Rule[] = (parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const tests: AlertTest[] = ALERT_TESTS.flatMap((file) => (parse(readFileSync(file, 'utf8')) as { tests: AlertTest[] }).tests);
const BUSINESS = ['LoyaltyRedemptionRateLow', 'LoyaltyExpiryRateHigh', 'LoyaltyRedemptionSlow', 'LoyaltyActiveMembersLow', 'LoyaltyPointsExpiringHigh'];

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!promtool) {
  console.warn('alerts: promtool not found, skipping `promtool check rules` and `promtool test rules`. Install it with `apt-get install -y prometheus` (Debian); .ci/run installs it.');
}

describe('alert rules', () => {
  it.skipIf(!promtool)('are accepted by promtool check rules', () => {
    expect(execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(!promtool)('pass promtool test rules', { timeout: 60_000 }, () => {
    const run = spawnSync('promtool', ['test', 'rules', ...ALERT_TESTS], { encoding: 'utf8', cwd: path.dirname(ALERT_TESTS[0]) });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('have, for every alert, a unit test that fires it and one that does not', () => {
    const cases = tests.flatMap((t) => t.alert_rule_test);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} stays quiet in a test`,
      ).toBe(true);
    }
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(BUSINESS));
  });

  it('each carry a severity, a duration, a summary in Chinese and English, and a runbook section', () => {
    const runbook = readFileSync(path.join(root, 'docs/runbook.md'), 'utf8');
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.for, rule.alert).toBeTruthy();
      expect(rule.annotations?.summary, rule.alert).toMatch(/[\u4e00-\u9fff].* \/ .*[A-Za-z]{3}/);
      expect(runbook, `docs/runbook.md has a section for ${rule.alert}`).toContain(`## ${rule.alert}`);
      expect(rule.annotations?.runbook_url).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`);
    }
  });

  it('use the thresholds programHealth reports', () => {
    const expr = (name: string) => rules.find((r) => r.alert === name)!.expr;
    expect(expr('LoyaltyRedemptionRateLow')).toContain(`< ${HEALTH_THRESHOLDS.redemptionRate}`);
    expect(expr('LoyaltyExpiryRateHigh')).toContain(`> ${HEALTH_THRESHOLDS.expiryRate}`);
    expect(expr('LoyaltyRedemptionSlow')).toContain(`> ${HEALTH_THRESHOLDS.redemptionSeconds}`);
    expect(expr('LoyaltyActiveMembersLow')).toContain(`< ${HEALTH_THRESHOLDS.activeMembers24h}`);
    expect(expr('LoyaltyPointsExpiringHigh')).toContain(`> ${HEALTH_THRESHOLDS.pointsExpiring7d}`);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(path.join(root, 'ops/grafana/loyalty.json'), 'utf8')) as {
    uid: string;
    title: string;
    panels: { title: string; type: string; targets?: { expr: string }[] }[];
  };

  it('is an importable dashboard with a panel for every business metric', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.title).toBeTruthy();
    const exprs = dashboard.panels
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr)
      .join('\n');
    for (const metric of [
      'loyalty_points_issued_total',
      'loyalty_points_redeemed_total',
      'loyalty_points_expired_total',
      'loyalty_redemptions_total',
      'loyalty_redemption_duration_seconds_bucket',
      'loyalty_active_members',
      'loyalty_points_expiring',
      'loyalty_points_outstanding',
      'graphql_operation_duration_seconds',
      'graphql_http_responses_total',
      'loyalty_job_runs_total',
      'loyalty_ws_connections',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
  });

  it.skipIf(!promtool)('queries only valid PromQL (checked by promtool as recording rules)', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'dashboard-')), 'rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:panel_${i}`, expr })) }] }));
    expect(execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' })).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
