import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served on 5174 in development: one of the origins CORS_ORIGINS allows by default.
// base './': the build can be served from any folder (npm run examples, the browser tests).
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  server: { port: 5174, strictPort: true },
  preview: { port: 5174, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800 },
});
