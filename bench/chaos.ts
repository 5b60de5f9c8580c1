import 'reflect-metadata';
import globalSetup from '../test/support/global-setup';
import { crashScenario, formatTallies, pgOutageScenario, sigtermScenario, type Tally } from '../test/support/chaos';

/**
 * `npm run chaos`: the three fault scenarios against the built server on loopback, each bounded
 * in time and count, then one table. Exits 1 when anything was lost, doubled or left unreconciled.
 * Scenario code is shared with test/faults/ (test/support/chaos.ts); this runs it bigger.
 */
async function main() {
  await globalSetup();
  const tallies: Tally[] = [];
  const run = async (name: string, scenario: () => Promise<Tally>) => {
    const started = Date.now();
    process.stderr.write(`chaos: ${name}…\n`);
    const tally = await scenario();
    process.stderr.write(`chaos: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(tally.facts)}\n`);
    tallies.push(tally);
  };
  await run('PostgreSQL down 3 s under 10 clients', () => pgOutageScenario({ clients: 10, durationMs: 8000, outageMs: 3000 }));
  await run('SIGTERM with 50 in flight', () => sigtermScenario({ inFlight: 50, late: 10, graceMs: 10_000 }));
  await run('kill -9 mid-burst', () => crashScenario({ clients: 10, opsPerClient: 12, killAfter: 40 }));
  process.stdout.write(`\n${formatTallies(tallies)}\n\n`);
  for (const t of tallies) process.stdout.write(`- ${t.scenario}: ${JSON.stringify(t.facts)}\n`);
  const bad = tallies.some((t) => t.duplicates || t.lost || t.reconciliationOff || t.leftovers);
  process.exit(bad ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
