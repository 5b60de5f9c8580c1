import 'reflect-metadata';
import { loadConfig } from '../platform/config';
import { openOrm } from '../platform/db/orm';
import { reconcile } from '../ledger/ledger.reconcile';

/** npm run ledger:check — exits 1 and lists every discrepancy when the ledger does not reconcile. */
async function run() {
  const config = loadConfig();
  const orm = await openOrm(config.databaseUrl, 2);
  try {
    const problems = await reconcile(orm.em.fork());
    if (problems.length === 0) {
      process.stdout.write('ledger reconciles: balances, lots, allocations, debts and lifetime totals agree\n');
      return;
    }
    for (const p of problems) process.stdout.write(`${p.member_id ?? '-'}  ${p.check}: ${p.detail}\n`);
    process.stdout.write(`${problems.length} discrepancies\n`);
    process.exitCode = 1;
  } finally {
    await orm.close();
  }
}

run().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
