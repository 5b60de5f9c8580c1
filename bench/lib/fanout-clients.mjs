// A load-generator child for the fanout suite: opens many WebSockets to ONE server and records
// when each pushed message arrives (performance.timeOrigin + performance.now(), the same clock
// in every process of the machine, to well under a millisecond).
//   mode 'graphql': speaks graphql-transport-ws to the app: connection_init with
//     { authorization: 'Bearer …' }, waits for connection_ack, then subscribes (board sockets:
//     leaderboardChanged, ready at its first push, the current board; balance sockets:
//     balanceChanged, ready once the subscribe is sent).
//   mode 'baseline': a hello ({"kind":…,"member":…}) to servers/fanout-baseline.mjs, ready at "ack".
// IPC: { type: 'open', mode, url, sockets: [{ kind, token, member }], concurrency, query } →
// { type: 'opened', … }; { type: 'reset' } starts recording afresh; { type: 'collect' } →
// { type: 'receipts', board: [[key, t]…], balance: [[key, t]…], … }; { type: 'close' } closes
// everything and exits.
import { projectRequire } from './dist.mjs';

const WebSocket = projectRequire('ws');
const now = () => performance.timeOrigin + performance.now();
const OPEN_TIMEOUT_MS = 60_000;

const sockets = [];
let board = [];
let balance = [];
const sizes = { board: 0, balance: 0 };
const problems = { closed: 0, closeCodes: {}, errors: 0, graphqlErrors: 0, firstErrors: [] };
let closing = false;

function note(text) {
  if (problems.firstErrors.length < 5) problems.firstErrors.push(text);
}

function openOne(mode, url, spec, queries) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok, why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!ok) note(why);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false, `open timed out (${spec.kind})`), OPEN_TIMEOUT_MS);
    const ws = mode === 'graphql' ? new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false }) : new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('error', (error) => {
      problems.errors += 1;
      done(false, `socket error: ${error.message}`);
    });
    ws.on('close', (code, reason) => {
      if (!closing) {
        problems.closed += 1;
        problems.closeCodes[code] = (problems.closeCodes[code] ?? 0) + 1;
        note(`closed ${code} ${reason}`);
      }
      done(false, `closed before ready: ${code} ${reason}`);
    });
    ws.on('open', () => {
      if (mode === 'graphql') ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${spec.token}` } }));
      else ws.send(JSON.stringify({ kind: spec.kind, member: spec.member }));
    });
    ws.on('message', (data, isBinary) => {
      const t = now();
      if (mode === 'baseline') {
        if (!isBinary && data.length === 3 && String(data) === 'ack') return done(true);
        const m = JSON.parse(String(data));
        const key = m.payload.data.k;
        if (m.id === 'board') {
          board.push([key, t]);
          sizes.board = data.length;
        } else {
          balance.push([key, t]);
          sizes.balance = data.length;
        }
        return;
      }
      const m = JSON.parse(String(data));
      if (m.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: spec.kind, type: 'subscribe', payload: { query: queries[spec.kind] } }));
        if (spec.kind === 'balance') done(true);
        return;
      }
      if (m.type === 'ping') return ws.send('{"type":"pong"}');
      if (m.type === 'error') {
        problems.graphqlErrors += 1;
        note(`graphql error: ${JSON.stringify(m.payload).slice(0, 300)}`);
        return done(false, 'subscribe refused');
      }
      if (m.type !== 'next') return;
      if (m.payload.errors) {
        problems.graphqlErrors += 1;
        note(`graphql error: ${JSON.stringify(m.payload.errors).slice(0, 300)}`);
      }
      if (m.id === 'board') {
        const top = m.payload.data?.leaderboardChanged?.entries?.[0];
        board.push([top ? top.member.id : null, t]);
        sizes.board = data.length;
        done(true);
      } else {
        balance.push([m.payload.data?.balanceChanged?.entry?.reference ?? null, t]);
        sizes.balance = data.length;
      }
    });
  });
}

async function open({ mode, url, sockets: specs, concurrency, queries }) {
  const started = now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      if (await openOne(mode, url, spec, queries)) ok += 1;
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  process.send({ type: 'opened', ok, failed, ms: now() - started, problems });
}

process.on('message', (m) => {
  if (m?.type === 'open') open(m).catch((error) => process.send({ type: 'opened', ok: 0, failed: m.sockets.length, ms: 0, problems: { ...problems, firstErrors: [String(error?.stack ?? error)] } }));
  if (m?.type === 'reset') {
    board = [];
    balance = [];
    process.send({ type: 'reset' });
  }
  if (m?.type === 'collect') process.send({ type: 'receipts', board, balance, sizes, problems, cpu: process.cpuUsage() });
  if (m?.type === 'close') {
    closing = true;
    for (const ws of sockets) ws.terminate();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
