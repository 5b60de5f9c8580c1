// npm run examples: builds the member app and the dashboard and serves the builds (vite preview)
// on Vite's default ports, 5173 and 5174 — the origins CORS_ORIGINS allows in development —
// against the server `npm start` runs. Open the URLs `npm start` printed (they carry the demo
// tokens), or add ?api=http://host:port&token=<jwt> yourself. The browser tests use the same
// functions with free ports.
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
export const EXAMPLES = {
  member: here('./member-app/vite.config.mts'),
  dashboard: here('./dashboard/vite.config.mts'),
};

export async function buildExamples() {
  for (const configFile of Object.values(EXAMPLES)) await build({ configFile, logLevel: 'warn' });
}

/** Serves both builds; port 0 picks a free one. Resolves with their base URLs. */
export async function serveExamples({ host = 'localhost', memberPort = 5173, dashboardPort = 5174 } = {}) {
  const open = async (configFile, port) => {
    const server = await preview({ configFile, logLevel: 'warn', preview: { host, port, strictPort: port !== 0, open: false } });
    const address = server.httpServer.address();
    return { server, url: `http://${host}:${address.port}/` };
  };
  const member = await open(EXAMPLES.member, memberPort);
  const dashboard = await open(EXAMPLES.dashboard, dashboardPort);
  return {
    memberUrl: member.url,
    dashboardUrl: dashboard.url,
    close: async () => {
      await member.server.close();
      await dashboard.server.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildExamples();
  const { memberUrl, dashboardUrl } = await serveExamples();
  process.stdout.write(
    [
      '',
      `member app: ${memberUrl}?api=http://localhost:4000&token=<member token>`,
      `dashboard:  ${dashboardUrl}?api=http://localhost:4000&token=<admin token>`,
      '(npm start prints both with the demo tokens filled in; Ctrl-C stops)',
      '',
    ].join('\n'),
  );
}
