/**
 * `npm run test:qemu`: the QEMU tier. Skipped (exit 0, with the reason) where it cannot run: not Linux, not root.
 * Everywhere else it runs, and a daemon that cannot be set up fails the run as "qemu tier setup failed: …" (CI runs
 * as root on Linux, where it must work). Extra arguments go to vitest.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { HERE, skipReason } from './tier';

const reason = skipReason();
if (reason) {
  process.stdout.write(`qemu tier skipped: ${reason}\n`);
  process.exit(0);
}
const root = join(HERE, '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--config', join(root, 'vitest.qemu.config.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
