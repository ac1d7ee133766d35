import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const gateway = process.env.SHOAL_GATEWAY ?? 'http://127.0.0.1:8000';

/**
 * The web app: built into dist/web, which the gateway serves on its own port. `npm run dev` serves
 * it with hot reload and forwards the API, the event stream and node sockets to a running gateway.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: gateway, changeOrigin: true },
      '/ws': { target: gateway, ws: true, changeOrigin: true },
    },
  },
});
