import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run console:dev` proxies the API to a running `npm start` (PORT 3000 by default), so the
// dev server and the platform look like one origin, as they do in production.
const api = process.env.CONSOLE_API_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/v1': api, '/dashboard': api, '/openapi.json': api } },
});
