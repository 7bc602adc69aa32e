/**
 * Sets the QEMU tier up once for every test file: guest images (cached) and the namespaced libvirtd. Tears it down
 * by PID at the end, and also when the run is interrupted (exit and signal hooks), so no daemon, QEMU or dnsmasq
 * outlives the run.
 */
import type { TestProject } from 'vitest/node';
import { setUpTier, tearDownTierSync, type Tier } from '../../scripts/qemu/tier';

declare module 'vitest' {
  export interface ProvidedContext {
    qemuTier: Tier;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const tier = await setUpTier(); // throws "qemu tier setup failed: …"
  let down = false;
  const teardown = () => {
    if (down) return;
    down = true;
    tearDownTierSync(tier.runDir);
  };
  process.once('exit', teardown);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      teardown();
      process.exit(130);
    });
  }
  project.provide('qemuTier', tier);
  return teardown;
}
