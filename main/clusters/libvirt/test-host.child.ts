/**
 * A separate process for test-host.test.ts: `tsx test-host.child.ts <host.xml> create|mutate|read`. It proves that
 * the demo host persists across processes (the CLI runs one process per command), so it must not share the test's.
 */
import { openLibvirtHost } from './host';
import { saveTestHost, testHostUri } from './test-host';
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml } from './xml';

const [file, action] = process.argv.slice(2) as [string, string];
const owner = { lineage: 'child-lineage', cluster: 'demo' };
const host = await openLibvirtHost(testHostUri(file));
try {
  if (action === 'create') {
    await host.defineNetwork(
      buildNetworkXml({
        name: 'demo-network',
        bridge: 'virbr-demo',
        gateway: '10.61.0.1',
        netmask: '255.255.255.0',
        dhcpStart: '10.61.0.2',
        dhcpEnd: '10.61.0.254',
        hosts: [],
        owner,
      }),
    );
    await host.startNetwork('demo-network');
    await host.definePool(buildPoolXml({ name: 'demo-pool', path: `${file}.pool`, owner }));
    await host.startPool('demo-pool');
    for (const [name, state] of [
      ['demo-controller', 'RUNNING'],
      ['demo-compute-01', 'PAUSED'],
      ['demo-compute-02', 'SHUTOFF'],
    ] as const) {
      await host.createVolume('demo-pool', buildVolumeXml({ name: `${name}.qcow2`, capacityGb: 10, backingPath: '/images/base.qcow2' }));
      await host.defineDomain(
        buildDomainXml({ name, type: 'test', vcpus: 2, memoryKiB: 1048576, description: 'a & b <c> &amp;', owner: { ...owner, role: name } }),
      );
      if (state !== 'SHUTOFF') await host.startDomain(name);
      if (state === 'PAUSED') await host.suspendDomain(name);
    }
    await saveTestHost(host, file);
  } else if (action === 'mutate') {
    await host.destroyDomain('demo-controller');
    await host.resumeDomain('demo-compute-01');
    await host.startDomain('demo-compute-02');
    await host.destroyNetwork('demo-network');
    await saveTestHost(host, file);
  } else if (action === 'read') {
    const out = {
      pid: process.pid,
      domains: [...(await host.domainStats())].map((d) => [d.name, d.state]).sort(),
      networks: await host.listNetworks(),
      pools: await host.listPools(),
      volumes: (await host.listVolumes('demo-pool')).map((v) => v.name).sort(),
      description: /<description>([^<]*)<\/description>/.exec(await host.domainXml('demo-controller'))?.[1] ?? null,
    };
    process.stdout.write(JSON.stringify(out));
  } else {
    throw new Error(`unknown action ${action}`);
  }
} finally {
  await host.close();
}
