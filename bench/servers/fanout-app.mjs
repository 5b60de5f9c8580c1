// The real app (servers/app.mjs, unchanged) plus the fanout suite's memory probe.
import { answerMemoryProbes } from './fanout-memory.mjs';
import './app.mjs';

answerMemoryProbes();
