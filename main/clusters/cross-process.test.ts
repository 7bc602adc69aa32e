/** Start in one process, status / stop / refresh in others: the demo host file and the state file keep them in agreement. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterStatusReport } from './refresh';
import { clusterFixture, hostDomains, type ClusterFixture } from '../../test/support/clusters';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules/.bin/tsx');
const CHILD = join(import.meta.dirname, 'cross-process.child.ts');

async function child<T>(f: ClusterFixture, action: 'start' | 'stop' | 'status' | 'refresh'): Promise<{ pid: number; out: T }> {
  const { stdout } = await run(TSX, [CHILD, f.ws.configFile, f.ws.statePath, action], { cwd: process.cwd(), timeout: 240_000 }); // a tsx child: slow to start on a loaded machine
  return JSON.parse(stdout) as { pid: number; out: T };
}

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

describe('across processes', { timeout: 600_000 }, () => {
  it('start in one child, status in another, stop in a third: all agree with the host file and the state', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    const started = await child<{ outcomes: { result: string }[] }>(fx, 'start');
    expect(started.pid).not.toBe(process.pid);
    expect(started.out.outcomes.map((o) => o.result)).toEqual(['started', 'started', 'started']);

    const status = await child<ClusterStatusReport>(fx, 'status');
    expect(status.pid).not.toBe(started.pid);
    expect(status.out.drift).toEqual([]);
    expect(status.out.state!.vms.map((v) => [v.name, v.state])).toEqual([
      ['hpc-controller', 'RUNNING'],
      ['hpc-compute-01', 'RUNNING'],
      ['hpc-compute-02', 'RUNNING'],
    ]);
    expect(await hostDomains(fx.host)).toEqual([
      ['hpc-compute-01', 'RUNNING'],
      ['hpc-compute-02', 'RUNNING'],
      ['hpc-controller', 'RUNNING'],
    ]);

    await child(fx, 'stop');
    const refreshed = await child<{ drift: unknown[]; applied: boolean }>(fx, 'refresh');
    expect(refreshed.out).toMatchObject({ drift: [], applied: true });
    const st = (await fx.state())!;
    expect(st.status).toBe('stopped');
    expect(st.vms.map((v) => v.state)).toEqual(['SHUTOFF', 'SHUTOFF', 'SHUTOFF']);
  });
});
