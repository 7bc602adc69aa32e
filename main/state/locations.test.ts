import { describe, expect, it } from 'vitest';
import { clusterStatePath, federationStatePath, siblingPaths } from './locations';

describe('clusterStatePath', () => {
  it('defaults to output/state.json next to cluster.yaml', () => {
    expect(clusterStatePath('/srv/hpc/cluster.yaml')).toBe('/srv/hpc/output/state.json');
    expect(clusterStatePath('conf/cluster.yaml', { cwd: '/home/ana' })).toBe('/home/ana/conf/output/state.json');
  });

  it('explicit > AI_HOW_STATE_FILE > default, relative paths against cwd', () => {
    const env = { AI_HOW_STATE_FILE: '/var/lib/ai-how/state.json' };
    expect(clusterStatePath('/srv/hpc/cluster.yaml', { env })).toBe('/var/lib/ai-how/state.json');
    expect(clusterStatePath('/srv/hpc/cluster.yaml', { env, explicit: 'my.json', cwd: '/tmp/x' })).toBe('/tmp/x/my.json');
    expect(clusterStatePath('/srv/hpc/cluster.yaml', { env: { AI_HOW_STATE_FILE: 'rel.json' }, cwd: '/w' })).toBe('/w/rel.json');
  });

  it('ignores empty overrides', () => {
    expect(clusterStatePath('/srv/hpc/cluster.yaml', { explicit: ' ', env: { AI_HOW_STATE_FILE: '' } })).toBe('/srv/hpc/output/state.json');
  });
});

describe('federationStatePath', () => {
  it('uses refedez.folder relative to the yaml folder, default .refedez', () => {
    expect(federationStatePath('/p/fl/refedez.yaml')).toBe('/p/fl/.refedez/state.json');
    expect(federationStatePath('/p/fl/refedez.yaml', 'state-dir')).toBe('/p/fl/state-dir/state.json');
    expect(federationStatePath('/p/fl/refedez.yaml', '../shared/.rf')).toBe('/p/shared/.rf/state.json');
    expect(federationStatePath('/p/fl/refedez.yaml', '/abs/rf')).toBe('/abs/rf/state.json');
    expect(federationStatePath('fl/refedez.yaml', null, '/home/ana')).toBe('/home/ana/fl/.refedez/state.json');
  });

  it('names the sibling files', () => {
    expect(siblingPaths('/a/state.json')).toEqual({
      tmp: '/a/state.json.tmp',
      backup: '/a/state.json.backup',
      lock: '/a/state.json.lock',
      history: '/a/state.json.history',
    });
  });
});
