/**
 * stop and per-VM actions on the real test driver. A guest that ignores the shutdown request is a real test-driver
 * domain with `<on_poweroff>restart</on_poweroff>`: the driver applies the poweroff action, so it stays RUNNING.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { saveTestHost } from './libvirt/test-host';
import { startCluster } from './start';
import { stopCluster } from './stop';
import { clusterFixture, hostDomains, recordingContext, type ClusterFixture } from '../../test/support/clusters';
import { vmAction } from './vm-action';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

/** Makes VMs (which must be off) ignore graceful shutdown from their next start on. */
async function ignoreShutdown(f: ClusterFixture, names: readonly string[]): Promise<void> {
  const h = await f.host.open();
  try {
    for (const name of names) {
      const xml = await h.domainXml(name, { inactive: true });
      expect(xml).toContain('<on_poweroff>destroy</on_poweroff>');
      await h.defineDomain(xml.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>restart</on_poweroff>'));
    }
    await saveTestHost(h, f.host.file);
  } finally {
    await h.close();
  }
}

describe('stop', () => {
  it('all shutdown requests go out before the one shared deadline; VMs that ignore them are forced off', async () => {
    fx = await clusterFixture({ computeNodes: 4 });
    await startCluster(fx.env, fx.ws, recordingContext());
    await stopCluster(fx.env, fx.ws, recordingContext());
    const stubborn = ['hpc-controller', 'hpc-compute-01', 'hpc-compute-02', 'hpc-compute-03', 'hpc-compute-04'];
    await ignoreShutdown(fx, stubborn);
    await startCluster(fx.env, fx.ws, recordingContext());

    const ctx = recordingContext();
    const result = await stopCluster(fx.env, fx.ws, ctx, { timeoutSec: 1 });
    expect(result.outcomes.map((o) => [o.target, o.result])).toEqual(stubborn.map((n) => [n, 'forced']));
    const steps = ctx.updates.map((u) => u.step);
    const lastRequest = steps.lastIndexOf('shutdown');
    const firstForce = steps.indexOf('force-off');
    // Structure, not wall time: every request precedes the single wait, which precedes every force-off.
    expect(steps.filter((s) => s === 'shutdown')).toHaveLength(5);
    expect(steps.filter((s) => s === 'wait')).toHaveLength(1);
    expect(lastRequest).toBeLessThan(steps.indexOf('wait'));
    expect(steps.indexOf('wait')).toBeLessThan(firstForce);
    expect(steps.filter((s) => s === 'force-off')).toHaveLength(5);
    const st = (await fx.state())!;
    expect(st.status).toBe('stopped');
    expect(st.vms.every((v) => v.state === 'SHUTOFF')).toBe(true);
  });

  it('per VM: stopped / forced; a paused VM is resumed so it can shut down cleanly', async () => {
    fx = await clusterFixture({ computeNodes: 2 });
    await startCluster(fx.env, fx.ws, recordingContext());
    await stopCluster(fx.env, fx.ws, recordingContext());
    await ignoreShutdown(fx, ['hpc-compute-02']);
    await startCluster(fx.env, fx.ws, recordingContext());
    await vmAction(fx.env, fx.ws, recordingContext(), 'hpc-compute-01', 'pause');
    const result = await stopCluster(fx.env, fx.ws, recordingContext(), { timeoutSec: 0 });
    expect(result.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'stopped'],
      ['hpc-compute-01', 'stopped'],
      ['hpc-compute-02', 'forced'],
    ]);
    expect((await fx.state())!.status).toBe('stopped');
    // Stopping a stopped cluster is safe and says so.
    const again = await stopCluster(fx.env, fx.ws, recordingContext());
    expect(again.outcomes.map((o) => o.result)).toEqual(['already-off', 'already-off', 'already-off']);
    expect(again.outcomes.map((o) => o.message)).toEqual(Array(3).fill('was already SHUTOFF; nothing to do'));
  });

  it('a VM gone from libvirt fails its stop (status not stopped); nothing recorded: state-wrong-status', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await expect(stopCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({ code: 'state-wrong-status' });
    await startCluster(fx.env, fx.ws, recordingContext());
    const h = await fx.host.open();
    try {
      await h.destroyDomain('hpc-compute-01');
      await h.undefineDomain('hpc-compute-01');
      await saveTestHost(h, fx.host.file);
    } finally {
      await h.close();
    }
    const result = await stopCluster(fx.env, fx.ws, recordingContext());
    expect(result.outcomes.map((o) => [o.target, o.result])).toEqual([
      ['hpc-controller', 'stopped'],
      ['hpc-compute-01', 'failed'],
    ]);
    expect((await fx.state())!.status).toBe('partial');
  });
});

describe('VM actions', () => {
  it('each action only where libvirt allows it; the new state is recorded', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const act = (action: Parameters<typeof vmAction>[4]) => vmAction(fx!.env, fx!.ws, recordingContext(), 'hpc-compute-01', action);
    const recorded = async () => (await fx!.state())!.vms.find((v) => v.name === 'hpc-compute-01')!.state;

    await expect(act('resume')).rejects.toMatchObject({ code: 'state-wrong-status', message: expect.stringContaining('needs PAUSED') });
    await expect(act('start')).rejects.toMatchObject({ code: 'state-wrong-status' });
    expect((await act('pause')).outcomes[0]).toMatchObject({ result: 'PAUSED' });
    expect(await recorded()).toBe('PAUSED');
    expect((await fx.state())!.status).toBe('partial');
    await expect(act('pause')).rejects.toMatchObject({ code: 'state-wrong-status' });
    await expect(act('reboot')).rejects.toMatchObject({ code: 'state-wrong-status' });
    await act('resume');
    expect((await fx.state())!.status).toBe('running');
    await act('reboot');
    expect(await recorded()).toBe('RUNNING');
    await act('shutdown');
    expect(await recorded()).toBe('SHUTOFF');
    await expect(act('force-off')).rejects.toMatchObject({ code: 'state-wrong-status' });
    await act('start');
    await act('force-off');
    expect(await recorded()).toBe('SHUTOFF');
    expect(await hostDomains(fx.host)).toEqual([
      ['hpc-compute-01', 'SHUTOFF'],
      ['hpc-controller', 'RUNNING'],
    ]);
    await expect(vmAction(fx.env, fx.ws, recordingContext(), 'hpc-nope', 'start')).rejects.toMatchObject({ code: 'not-found' });
  });
});
