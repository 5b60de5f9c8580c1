// The real application, built (dist/), in its own process. Configured by its environment,
// exactly as `node dist/src/main.js` would be, but on an ephemeral port of 127.0.0.1.
import { dist } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';
import { installSqlTrace } from '../lib/sql-trace.mjs';

installSqlTrace(); // only with BENCH_SQL_TRACE=1 (the ledger suite compares the app's SQL with its baseline's)

const { loadConfig } = dist('src/platform/config.js');
const { createApp } = dist('src/app.js');

const app = await createApp(loadConfig(process.env));
const url = await app.listen(0, '127.0.0.1');
serveUntilStopped(url, () => app.stop());
