/**
 * libvirt's "domain is not running" (OPERATION_INVALID), from the real test driver: a VM that went off between our
 * read and our call — forced off by someone else, here through the same real connection just before our call — is
 * the outcome the user expects (stopped, deleted, or the action's own state-wrong-status), never a failure.
 * test/qemu/cli.test.ts shows the same on a real QEMU daemon.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toErrorData } from '../errors';
import { clusterFixture, recordingContext, type ClusterFixture } from '../../test/support/clusters';
import { destroyCluster } from './destroy';
import { createClusterEnv, type ClusterEnv } from './env';
import { openLibvirtHost } from './libvirt/host';
import { saveTestHost } from './libvirt/test-host';
import { startCluster } from './start';
import { stopCluster } from './stop';
import { vmAction } from './vm-action';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

/** An env whose `op` is preceded by a real force-off of the same domain (another actor's), through the real host. */
function forcedOffBefore(f: ClusterFixture, op: 'destroyDomain' | 'shutdownDomain', seen: unknown[]): ClusterEnv {
  return createClusterEnv({
    store: f.store,
    stopTimeoutSec: 0,
    parallelism: 4,
    pollIntervalMs: 20,
    processEnv: {},
    open: async (uri) => {
      const host = await openLibvirtHost(uri);
      return new Proxy(host, {
        get(target, prop, receiver) {
          if (prop === op) {
            return async (name: string) => {
              await target.destroyDomain(name);
              try {
                await target[op](name);
              } catch (err) {
                seen.push(err);
                throw err;
              }
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  });
}

const notRunning = expect.objectContaining({ code: 'libvirt-conflict', message: expect.stringMatching(/domain is not running/) });
/** The test driver's shutdown says it its own way: "internal error: domain 'X' not running" (code 1, INTERNAL_ERROR). */
const notRunningInternal = expect.objectContaining({ code: 'libvirt-error', message: expect.stringMatching(/internal error: domain '[^']+' not running/) });

/** Makes VMs (which must be off) ignore graceful shutdown from their next start on (the driver restarts them). */
async function ignoreShutdown(f: ClusterFixture, names: readonly string[]): Promise<void> {
  const h = await f.host.open();
  try {
    for (const name of names) {
      const xml = await h.domainXml(name, { inactive: true });
      await h.defineDomain(xml.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>restart</on_poweroff>'));
    }
    await saveTestHost(h, f.host.file);
  } finally {
    await h.close();
  }
}

describe('"domain is not running" from libvirt', () => {
  it('stop: a VM already off when its force-off comes is stopped, not failed', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    const vms = ['hpc-controller', 'hpc-compute-01'];
    await startCluster(fx.env, fx.ws, recordingContext());
    await stopCluster(fx.env, fx.ws, recordingContext());
    await ignoreShutdown(fx, vms);
    await startCluster(fx.env, fx.ws, recordingContext());
    const seen: unknown[] = [];
    const env = forcedOffBefore(fx, 'destroyDomain', seen);
    try {
      const r = await stopCluster(env, fx.ws, recordingContext(), { timeoutSec: 0 });
      expect(seen.map((e) => toErrorData(e))).toEqual([notRunning, notRunning]);
      expect(r.outcomes.map((o) => [o.target, o.result, o.error])).toEqual(vms.map((vm) => [vm, 'stopped', undefined]));
      expect((await fx.state())!.status).toBe('stopped');
    } finally {
      await env.dispose();
    }
  });

  it('destroy: a VM already off when its force-off comes is undefined and deleted', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const seen: unknown[] = [];
    const env = forcedOffBefore(fx, 'destroyDomain', seen);
    try {
      const r = await destroyCluster(env, fx.ws, recordingContext());
      expect(seen.map((e) => toErrorData(e))).toEqual([notRunning, notRunning]);
      const vms = ['hpc-controller', 'hpc-compute-01'];
      expect(r.outcomes.filter((o) => vms.includes(o.target)).map((o) => [o.target, o.result])).toEqual(vms.map((vm) => [vm, 'deleted']));
      expect(r.outcomes.filter((o) => o.error)).toEqual([]);
      expect(await fx.state()).toBeNull();
    } finally {
      await env.dispose();
    }
  });

  it('a VM action on a VM gone off since the check answers state-wrong-status, like the check itself', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    await startCluster(fx.env, fx.ws, recordingContext());
    const seen: unknown[] = [];
    const env = forcedOffBefore(fx, 'shutdownDomain', seen);
    try {
      const err = await vmAction(env, fx.ws, recordingContext(), 'hpc-compute-01', 'shutdown').then(
        () => null,
        (e: unknown) => toErrorData(e),
      );
      expect(seen.map((e) => toErrorData(e))).toEqual([notRunningInternal]);
      expect(err).toMatchObject({ code: 'state-wrong-status', message: 'Cannot shutdown hpc-compute-01: it is SHUTOFF, and shutdown needs RUNNING.' });
    } finally {
      await env.dispose();
    }
  });
});
