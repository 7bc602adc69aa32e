/** Demo host persistence: real separate Node processes writing and reading one test-driver host file. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempTestHost, type TempTestHost } from '../../../test/support/libvirt-host';
import { openLibvirtHost } from './host';
import { createDemoHost, saveTestHost, testHostFile, testHostUri } from './test-host';
import { childText } from './xml';

const run = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules/.bin/tsx');
const CHILD = join(import.meta.dirname, 'test-host.child.ts');

async function child(file: string, action: 'create' | 'mutate' | 'read'): Promise<string> {
  const { stdout } = await run(TSX, [CHILD, file, action], { cwd: process.cwd(), timeout: 30_000 });
  return stdout;
}

let temp: TempTestHost | null = null;
afterEach(async () => {
  await temp?.cleanup();
  temp = null;
});

describe('test host persistence', () => {
  it('start in one process, status in the next: same domains, run states, networks, pools and volumes', async () => {
    temp = await createTempTestHost();
    await child(temp.file, 'create');
    const first = JSON.parse(await child(temp.file, 'read'));
    expect(first.pid).not.toBe(process.pid);
    expect(first.domains).toEqual([
      ['demo-compute-01', 'PAUSED'],
      ['demo-compute-02', 'SHUTOFF'],
      ['demo-controller', 'RUNNING'],
    ]);
    expect(first.networks).toEqual([{ name: 'demo-network', active: true, persistent: true }]);
    expect(first.pools).toEqual([{ name: 'demo-pool', active: true }]);
    expect(first.volumes).toEqual(['demo-compute-01.qcow2', 'demo-compute-02.qcow2', 'demo-controller.qcow2']);
    expect(first.description).toBe('a &amp; b &lt;c&gt; &amp;amp;'); // escaped once in the XML, exactly as given

    await child(temp.file, 'mutate');
    const second = JSON.parse(await child(temp.file, 'read'));
    expect(second.domains).toEqual([
      ['demo-compute-01', 'RUNNING'],
      ['demo-compute-02', 'RUNNING'],
      ['demo-controller', 'SHUTOFF'],
    ]);
    // The node format loads every network as active; our inactive list keeps a stopped network stopped.
    expect(second.networks).toEqual([{ name: 'demo-network', active: false, persistent: true }]);
  });

  it('this process sees what a child saved, and can save it back', async () => {
    temp = await createTempTestHost();
    await child(temp.file, 'create');
    const host = await openLibvirtHost(temp.uri);
    try {
      expect((await host.getDomain('demo-compute-01'))?.state).toBe('PAUSED');
      expect(childText(await host.domainXml('demo-controller'), 'description')).toBe('a & b <c> &amp;');
      await saveTestHost(host, temp.file);
      expect(await readFile(temp.file, 'utf8')).toMatch(/^<\?xml version="1.0"\?>\n<node>/);
    } finally {
      await host.close();
    }
  });

  it('creates an empty demo host and maps host files to URIs and back (spaces included)', async () => {
    temp = await createTempTestHost();
    const file = join(temp.dir, 'with space', 'host.xml');
    const uri = await createDemoHost(file);
    expect(uri).toBe(testHostUri(file));
    expect(uri).toContain('with%20space');
    expect(testHostFile(uri)).toBe(file);
    expect(testHostFile('test:///default')).toBeNull();
    expect(testHostFile('qemu:///system')).toBeNull();
    const host = await openLibvirtHost(uri);
    try {
      expect(await host.domainStats()).toEqual([]);
      expect(await host.listNetworks()).toEqual([]);
      expect(await host.listPools()).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it('refuses to save a host that is not on the test driver', async () => {
    const fake = { isTestDriver: false, uri: 'qemu:///system' } as Parameters<typeof saveTestHost>[0];
    await expect(saveTestHost(fake, '/tmp/never-written.xml')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
