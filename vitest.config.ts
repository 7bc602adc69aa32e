import { defineConfig } from 'vitest/config';

// Unit tests run beside the code; integration tests start real libvirt (test driver) and real sshd processes.
export default defineConfig({
  test: {
    include: ['main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts', 'test/support/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
