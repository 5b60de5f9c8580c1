// Records the SQL a server child sends to PostgreSQL, so a suite can check that the app and its
// baseline run the same statements. Installed by a server child when BENCH_SQL_TRACE=1; it
// patches pg.Client#query (the pg that knex/MikroORM and the baselines load), and records only
// between { type: 'sql-trace', on: true } and { type: 'sql-trace', on: false } (IPC), which
// answers with the statements. Off, it costs one boolean test per query.
import { projectRequire } from './dist.mjs';

export function installSqlTrace() {
  if (process.env.BENCH_SQL_TRACE !== '1') return;
  const pg = projectRequire('pg');
  const original = pg.Client.prototype.query;
  let recording = null;
  pg.Client.prototype.query = function query(config, values, callback) {
    if (recording) {
      const text = typeof config === 'string' ? config : config?.text;
      if (typeof text === 'string') recording.push(text);
    }
    return original.call(this, config, values, callback);
  };
  process.on('message', (message) => {
    if (message?.type !== 'sql-trace') return;
    if (message.on) {
      recording = [];
      process.send({ type: 'sql-trace', statements: [] });
    } else {
      const statements = recording ?? [];
      recording = null;
      process.send({ type: 'sql-trace', statements });
    }
  });
}

/**
 * One statement's shape: literals and bind parameters become `?`, whitespace and a trailing `;`
 * go. The app (MikroORM) inlines values into the text; a pg baseline binds $1, $2 …: both
 * normalise to the same shape when they are the same statement.
 */
export function statementShape(text) {
  return text
    .replace(/'(?:[^']|'')*'/g, '?') // string literals (ids, dates, JSON)
    .replace(/\$\d+/g, '?') // bind parameters
    .replace(/\b(?:NULL|null|true|false)\b/g, '?')
    .replace(/(?<![\w"$.])-?\d+(?:\.\d+)?\b/g, '?') // numbers, not digits inside identifiers (p0, t0)
    .replace(/\s+/g, ' ')
    .replace(/\s*;\s*$/, '')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .trim();
}

/**
 * Blocks in order: each transaction (BEGIN … COMMIT/ROLLBACK) as its ordered statements, and
 * each run of statements outside a transaction sorted (they may go out in parallel, on several
 * pool connections, in any order).
 */
export function statementBlocks(statements) {
  const blocks = [];
  let loose = [];
  let tx = null;
  for (const shape of statements.map(statementShape)) {
    const upper = shape.toUpperCase();
    if (upper === 'BEGIN' || upper.startsWith('BEGIN ')) {
      if (loose.length) blocks.push({ transaction: false, statements: loose.sort() });
      loose = [];
      tx = [shape.toUpperCase()];
    } else if (tx && (upper === 'COMMIT' || upper === 'ROLLBACK')) {
      tx.push(upper);
      blocks.push({ transaction: true, statements: tx });
      tx = null;
    } else if (tx) {
      tx.push(shape);
    } else {
      loose.push(shape);
    }
  }
  if (tx) blocks.push({ transaction: true, statements: tx });
  if (loose.length) blocks.push({ transaction: false, statements: loose.sort() });
  return blocks;
}

/** The first difference between two traces, or null when they run the same statements. */
export function compareTraces(a, b) {
  const x = statementBlocks(a);
  const y = statementBlocks(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (!p || !q) return { block: i, left: p?.statements ?? null, right: q?.statements ?? null };
    for (let j = 0; j < Math.max(p.statements.length, q.statements.length); j++) {
      if (p.statements[j] !== q.statements[j]) return { block: i, statement: j, left: p.statements[j] ?? null, right: q.statements[j] ?? null };
    }
  }
  return null;
}
