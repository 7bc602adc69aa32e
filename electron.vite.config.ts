import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// One build for every entry: the Electron main process, the headless host (`serve`), the CLI, the sandboxed preload
// (CommonJS: a sandboxed preload cannot be an ES module) and the React renderer.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // Pure-JS dependencies are bundled: loading them file by file (xmlbuilder2 alone is ~160 CommonJS files, yaml 70)
      // cost the CLI more start-up time than running its command. Native and optional ones stay external.
      externalizeDeps: { exclude: ['yaml', 'xmlbuilder2', 'zod', 'commander', 'cli-progress', 'ssh-config'] },
      rollupOptions: {
        input: {
          electron: resolve(import.meta.dirname, 'main/entry/electron.ts'),
          serve: resolve(import.meta.dirname, 'main/entry/serve.ts'),
          cli: resolve(import.meta.dirname, 'main/entry/cli.ts'),
          // Heavy config parses run here, off the main event loop (main/workers/off-thread.ts finds it by this name).
          'config-worker': resolve(import.meta.dirname, 'main/workers/config-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      // electron-vite leaves the renderer unminified by default (766 kB); minified, it is served compressed with hashed
      // names (`assets/[name]-[hash]`) that the serve host may tell the browser to cache for good (main/serve/http-host.ts).
      minify: true,
      cssMinify: true,
      sourcemap: false,
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'renderer/index.html') } },
    },
  },
});
