/**
 * Refresh of N VMs on libvirt's test driver: our bulk path (`virConnectGetAllDomainStats` through koffi, selective
 * decoding) against the naive path (list domains, then name + info per domain through @unraid/libvirt, issued in
 * parallel), both measured in the same run on hosts loaded from the same generated node file.
 *
 *   npm run bench -- refresh [--sizes 1000,10000] [--reps 7]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as libvirt from '@unraid/libvirt';
import { create } from 'xmlbuilder2';
import { openLibvirtHost } from '../main/clusters/libvirt/host';
import { testHostUri } from '../main/clusters/libvirt/test-host';
import { TEST_NS, serializeXml } from '../main/clusters/libvirt/xml';
import { domainStateName } from '../main/clusters/libvirt/types';
import { report, timeMedian } from './lib';

const RUNSTATES = [1, 3, 5] as const; // RUNNING, PAUSED, SHUTOFF

/** A node file with `n` domains (defining 10k one by one would dominate the run). */
function hostXml(n: number): string {
  const node = create().ele('node');
  for (let i = 0; i < n; i++) {
    const d = node.ele('domain', { type: 'test' });
    d.ele('name').txt(`bench-vm-${String(i).padStart(5, '0')}`);
    d.ele('memory', { unit: 'KiB' }).txt('1048576');
    d.ele('vcpu').txt(String(1 + (i % 8)));
    d.ele('os').ele('type').txt('hvm');
    d.ele(TEST_NS, 'test:runstate').txt(String(RUNSTATES[i % RUNSTATES.length]));
  }
  return serializeXml(node, { declaration: true });
}

function arg(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Bench entry point. */
export async function main(args: string[]): Promise<void> {
  const sizes = (arg(args, '--sizes') ?? '1000,10000').split(',').map(Number);
  const reps = Number(arg(args, '--reps') ?? 7);
  const dir = await mkdtemp(join(tmpdir(), 'clusterdesk-bench-refresh-'));
  try {
    for (const n of sizes) {
      const file = join(dir, `host-${n}.xml`);
      await writeFile(file, hostXml(n));
      const uri = testHostUri(file);
      const host = await openLibvirtHost(uri);
      const hv = new libvirt.Hypervisor({ uri });
      await hv.connectOpen();
      try {
        const bulk = async () => host.domainStats();
        const naive = async () => {
          const domains = await hv.connectListAllDomains();
          return Promise.all(domains.map(async (d) => ({ name: await hv.domainGetName(d), state: domainStateName((await hv.domainGetInfo(d)).state) })));
        };
        // Both paths must see the same thing, or the comparison means nothing.
        const a = (await bulk()).map((d) => `${d.name}=${d.state}`).sort();
        const b = (await naive()).map((d) => `${d.name}=${d.state}`).sort();
        if (a.length !== n || a.join() !== b.join()) throw new Error(`bulk and naive disagree at n=${n}`);

        const ms = await timeMedian(bulk, reps, 2);
        const baselineMs = await timeMedian(naive, Math.max(3, Math.ceil(reps / 2)), 1);
        report({
          bench: 'refresh',
          case: `refresh n=${n}`,
          ms,
          baseline: 'list + name + info per domain (@unraid/libvirt, parallel)',
          baseline_ms: baselineMs,
          speedup: Math.round((baselineMs / ms) * 10) / 10,
          reps,
        });
      } finally {
        await hv.connectClose();
        await host.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
