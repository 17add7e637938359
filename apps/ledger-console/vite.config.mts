import preact from '@preact/preset-vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The web console (issue 14), built by `npm run build` into dist/console and served by the API at /console/.
 * Everything it loads is bundled here: nothing is fetched from elsewhere at run time, so its page policy can
 * allow only its own origin.
 */
export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false })],
  build: {
    outDir: resolve(here, '../../dist/console'),
    emptyOutDir: true,
    // No inline module-preload polyfill or data: URLs: every script and style is a file of this origin.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  logLevel: 'warn',
});
