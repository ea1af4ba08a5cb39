import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The single-file build: `dist/sandbox-terminal.js`, one ES module with the elements, the docs enhancement, Lit, xterm
 * and xterm's CSS (which the elements carry as Lit styles), for pages without a bundler. Built from the workspace
 * sources; browser conditions, so the client SDK takes `fetch` and Lit its production build.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { conditions: ['@sandbox-terminal/source', 'browser', 'module', 'import', 'default'] },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    lib: { entry: fileURLToPath(new URL('./src/standalone.ts', import.meta.url)), formats: ['es'], fileName: () => 'sandbox-terminal.js' },
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    copyPublicDir: false,
    rolldownOptions: { output: { codeSplitting: false } },
  },
});
