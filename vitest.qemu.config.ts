import { defineConfig } from 'vitest/config';

// The QEMU tier (`npm run test:qemu`, scripts/qemu/README.md): real VMs under a namespaced libvirtd. One daemon for
// every file (global setup); the files run at once (each its own cluster: names, subnet, bridge), so their guests
// boot in parallel and one file's waits overlap another's boots. Generous waits: TCG guests on shared cores.
export default defineConfig({
  test: {
    include: ['test/qemu/**/*.test.ts'],
    globalSetup: ['test/qemu/global-setup.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 4, // one per file: lifecycle, forced-stop, remote, cli
    testTimeout: 240_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
