import 'reflect-metadata';
import { afterAll } from 'vitest';
import { endFile } from './file-scope';

// Runs in every test file (setupFiles), after the file's own afterAll hooks (hooks stack).
afterAll(endFile);
