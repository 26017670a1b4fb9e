import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { trustedDocumentsPlugin } from './trusted-documents.ts';

// `npm run dev -w web` serves the app with hot reload and passes the API to a running platform
// (`npm start`, or API_URL=http://host:port): GraphQL over HTTP and graphql-ws, and the REST shims.
const api = process.env.API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), trustedDocumentsPlugin(() => import('./src/graphql/documents.ts'))],
  // The gateway's GraphiQL page needs React 18, hoisted to the repository's node_modules; this app's React 19
  // lives in web/node_modules. Libraries hoisted to the root (urql, wouter) must get this app's React too.
  resolve: { dedupe: ['react', 'react-dom'] },
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    strictPort: false,
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/api': { target: api, changeOrigin: true },
      '/health': { target: api, changeOrigin: true },
    },
  },
  build: {
    target: 'es2022',
    sourcemap: false,
    // the app is small: one entry chunk (plus lazily loaded pages); hls.js will be its own chunk
    chunkSizeWarningLimit: 300,
  },
});
