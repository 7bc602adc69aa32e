import { defineConfig } from 'vitest/config';

// The QEMU tier (`npm run test:qemu`, scripts/qemu/README.md): real VMs under a namespaced libvirtd. One daemon for
// every file (global setup), files one after another (TCG guests share 2 cores), generous waits for guest boots.
export default defineConfig({
  test: {
    include: ['test/qemu/**/*.test.ts'],
    globalSetup: ['test/qemu/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
