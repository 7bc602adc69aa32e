/** Freed native memory goes back to the system after a refresh's libvirt connection closes (real test driver). */
import { afterEach, describe, expect, it } from 'vitest';
import { clusterFixture, recordingContext, type ClusterFixture } from '../../../test/support/clusters';
import { refreshCluster } from '../refresh';
import { startCluster } from '../start';
import { nativeTrimCount, releaseFreedNativeMemory } from './native-memory';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

describe('releaseFreedNativeMemory', () => {
  it('trims once per request, and a request made while one runs adds exactly one more', async () => {
    await releaseFreedNativeMemory();
    const before = nativeTrimCount.value;
    const first = releaseFreedNativeMemory();
    const second = releaseFreedNativeMemory();
    const third = releaseFreedNativeMemory();
    await Promise.all([first, second, third]);
    // glibc is what this project runs on (Debian); the first trim and one coalesced follow-up.
    expect(nativeTrimCount.value - before).toBe(2);
  });

  it('a refresh (dry and applied) asks for a trim after closing its connection', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    await startCluster(fx.env, fx.ws, recordingContext());
    await releaseFreedNativeMemory();
    let before = nativeTrimCount.value;
    await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: false });
    await releaseFreedNativeMemory(); // waits for the one the refresh started (and adds at most one)
    expect(nativeTrimCount.value - before).toBeGreaterThanOrEqual(2);
    before = nativeTrimCount.value;
    await refreshCluster(fx.env, fx.ws, recordingContext(), { apply: true });
    await releaseFreedNativeMemory();
    expect(nativeTrimCount.value - before).toBeGreaterThanOrEqual(2);
  });
});
