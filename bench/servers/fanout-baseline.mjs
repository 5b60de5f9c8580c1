// The fanout baseline: a bare `ws` server, no GraphQL, no auth, no Redis, no database. It accepts
// the same number of sockets as the app's run; a socket says once what it is
// ({"kind":"board"} or {"kind":"balance","member":"<id>"}) and gets "ack". The parent then sends
// over IPC, at the rate it posts earnings to the app, { type: 'earn', member, key, t }:
//   - the member's socket gets a message of exactly the byte size of the app's balanceChanged
//     message, carrying `key` (the order id) so the client can time it;
//   - like the app's LeaderboardFeed, the first earn of a quiet period starts a
//     LEADERBOARD_COALESCE_MS timer (plus the app's 100 ms LEDGER_MOVED coalescing); when it fires,
//     every board socket gets ONE pre-encoded buffer of the app's leaderboardChanged message size,
//     carrying the key of the latest earning (as the app's #1 entry is the latest earner).
// Sizes and delays come from { type: 'config', boardBytes, balanceBytes, coalesceMs, movedMs }.
import { createServer } from 'node:http';
import { projectRequire } from '../lib/dist.mjs';
import { serveUntilStopped } from '../lib/servers.mjs';
import { answerMemoryProbes, answerWindowProbes } from './fanout-memory.mjs';

const { WebSocketServer } = projectRequire('ws');

const boards = new Set();
const balances = new Map();
let config = { boardBytes: 1000, balanceBytes: 400, coalesceMs: 500, movedMs: 100 };
let latestKey = null;
let timer = null;

/** A graphql-transport-ws-shaped `next` message padded to exactly `bytes` bytes (ASCII). */
function message(id, key, bytes) {
  const head = `{"id":"${id}","type":"next","payload":{"data":{"k":${JSON.stringify(key)},"pad":"`;
  const tail = '"}}}';
  const pad = Math.max(0, bytes - Buffer.byteLength(head) - tail.length);
  return Buffer.from(head + 'x'.repeat(pad) + tail);
}

const windows = answerWindowProbes();
const nowMs = () => performance.timeOrigin + performance.now();

function broadcast() {
  timer = null;
  windows.note(latestKey, nowMs());
  const frame = message('board', latestKey, config.boardBytes);
  for (const socket of boards) if (socket.readyState === 1) socket.send(frame);
}

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 256 * 1024 });
wss.on('connection', (socket) => {
  socket.once('message', (data) => {
    let hello;
    try {
      hello = JSON.parse(String(data));
    } catch {
      socket.close(4400, 'bad hello');
      return;
    }
    if (hello.kind === 'balance') {
      balances.set(hello.member, socket);
      socket.once('close', () => balances.get(hello.member) === socket && balances.delete(hello.member));
    } else {
      boards.add(socket);
      socket.once('close', () => boards.delete(socket));
    }
    socket.send('ack');
  });
});

process.on('message', (m) => {
  if (m?.type === 'config') config = { ...config, ...m };
  if (m?.type !== 'earn') return;
  const socket = balances.get(m.member);
  if (socket?.readyState === 1) socket.send(message('balance', m.key, config.balanceBytes));
  latestKey = m.key;
  if (!timer) timer = setTimeout(broadcast, config.movedMs + config.coalesceMs);
});

answerMemoryProbes();
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address();
  serveUntilStopped(`http://127.0.0.1:${port}`, async () => {
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(() => http.close(() => resolve())));
  });
});
