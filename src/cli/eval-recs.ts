/**
 * npm run eval:recs [-- --members N --items N --redemptions N --seed N]: the offline
 * evaluation of recommendations (see src/recommendations/recommendation.eval.ts).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_EVAL, evaluate } from '../recommendations/recommendation.eval';

const { values } = parseArgs({
  options: {
    members: { type: 'string' },
    items: { type: 'string' },
    redemptions: { type: 'string' },
    seed: { type: 'string' },
  },
});
const options = { ...DEFAULT_EVAL };
for (const key of ['members', 'items', 'redemptions', 'seed'] as const) {
  if (values[key] == null) continue;
  const n = Number(values[key]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${key} must be a positive integer\n`);
    process.exit(2);
  }
  options[key] = n;
}
if (options.redemptions < 2 * options.members) {
  process.stderr.write('--redemptions must be at least twice --members (each member redeems at least twice)\n');
  process.exit(2);
}

const started = process.hrtime.bigint();
const result = evaluate(options);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const [hybrid, popularity] = result.rows;
const lines = [
  `synthetic history: ${result.world.members} members, ${result.world.items} items, ${result.world.redemptions} redemptions (seed ${options.seed}); last redemption of each member hidden`,
  '',
  `| method     | hit rate @${options.k} | NDCG @${options.k} |`,
  '| ---------- | ----------- | ------- |',
  ...result.rows.map((r) => `| ${r.method.padEnd(10)} | ${pct(r.hitRate).padStart(11)} | ${r.ndcg.toFixed(4).padStart(7)} |`),
  '',
  `hybrid / popularity: hit rate ×${(hybrid.hitRate / popularity.hitRate).toFixed(2)}, NDCG ×${(hybrid.ndcg / popularity.ndcg).toFixed(2)} (${seconds.toFixed(1)} s)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
