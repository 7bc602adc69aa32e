/** Names and paths with quotes, `<`, `&` or `$(…)`: rejected (names) or carried verbatim (paths), never interpreted. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseXml, type XmlElement } from './libvirt/xml';
import { startCluster } from './start';
import { clusterFixture, fixtureYaml, recordingContext, type ClusterFixture } from '../../test/support/clusters';
import { validateCluster } from './workspace';

let fx: ClusterFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

const NASTY = `a'b"c<d>&e$(touch PWNED)\`touch PWNED2\``;

function child(el: XmlElement, name: string): XmlElement {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as XmlElement).localName === name) return c as XmlElement;
  throw new Error(`no <${name}>`);
}

describe('hostile names and paths', () => {
  it('a cluster name with shell or XML metacharacters is refused at validation; nothing is created', async () => {
    fx = await clusterFixture({ computeNodes: 1 });
    for (const name of [`hpc$(touch PWNED)`, `hpc"x`, `hpc<x>`, `hpc&x`, `hpc'x`]) {
      await writeFile(fx.ws.configFile, fixtureYaml(name, fx.host.uri, { form: 'list', computeNodes: 1, baseImage: 'images/base.qcow2' }));
      const report = await validateCluster(fx.ws, {});
      expect(report.valid).toBe(false);
      expect(report.errors[0]).toMatchObject({ code: 'config-invalid', field: 'clusters.hpc.name' });
      await expect(startCluster(fx.env, fx.ws, recordingContext())).rejects.toMatchObject({ code: 'config-invalid' });
    }
    expect(await fx.state()).toBeNull();
  });

  it('a base image path and a workspace folder full of metacharacters are carried verbatim into libvirt and the state', async () => {
    fx = await clusterFixture({ computeNodes: 1, subdir: `ws ${NASTY}`, baseImage: `images/${NASTY}.qcow2` });
    await startCluster(fx.env, fx.ws, recordingContext());
    const st = (await fx.state())!;
    expect(st.status).toBe('running');
    expect(st.pools?.[0]?.path).toBe(`${fx.dir}/pool`);
    const h = await fx.host.open();
    try {
      const vol = parseXml(await h.volumeXml('hpc-pool', 'hpc-controller.qcow2'));
      expect(child(child(vol, 'backingStore'), 'path').textContent).toBe(`${fx.dir}/images/${NASTY}.qcow2`);
      const pool = parseXml(await h.poolXml('hpc-pool'));
      expect(child(child(pool, 'target'), 'path').textContent).toBe(`${fx.dir}/pool`);
    } finally {
      await h.close();
    }
    expect(st.volumes[0]!.path).toBe(`${fx.dir}/pool/hpc-controller.qcow2`);
    // Nothing ran: no file named PWNED anywhere near.
    for (const dir of [fx.dir, process.cwd(), fx.host.dir]) expect((await readdir(dir)).filter((n) => n.startsWith('PWNED'))).toEqual([]);
    expect(JSON.parse(await readFile(fx.ws.statePath, 'utf8')).cluster_name).toBe('hpc');
  });
});
