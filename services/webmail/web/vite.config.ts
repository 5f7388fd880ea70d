import { defineConfig } from 'vite';

// The webmail's single page: built into dist/ and served by the webmail server itself (src/app.ts).
// No inline script or style in the output, so the page runs under script-src 'self' / style-src 'self'.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
