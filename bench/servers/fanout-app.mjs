// The real app (servers/app.mjs, unchanged) plus the fanout suite's memory probe and window log.
import { subscribe } from 'node:diagnostics_channel';
import { answerMemoryProbes, answerWindowProbes } from './fanout-memory.mjs';
import './app.mjs';

answerMemoryProbes();
// When each board's coalescing window closed, by its #1 member (src/leaderboard/leaderboard.feed.ts).
const windows = answerWindowProbes();
subscribe('loyalty:leaderboard:computed', ({ top, windowClosedAt }) => windows.note(top, windowClosedAt));
