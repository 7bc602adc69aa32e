import { describe, expect, it } from 'vitest';
import { realDirRefusal, stopDirRefusal, tmpDirRefusal, tmpPrefixFor, workspaceKnownHostsPath } from './paths';

describe('temp folder names', () => {
  it('prefix: clusterdesk- and the first 8 hex chars of the lineage', () => {
    expect(tmpPrefixFor('0f3c9a1b-2222-4333-8444-555566667777')).toBe('clusterdesk-0f3c9a1b-');
    expect(tmpPrefixFor('ABCDEF12-x')).toBe('clusterdesk-abcdef12-');
  });

  it('accepts our folders directly under the temp root (mktemp and mkdtemp suffixes)', () => {
    expect(tmpDirRefusal('/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH', '/tmp', 'clusterdesk')).toBeNull();
    expect(tmpDirRefusal('/tmp/clusterdesk-0f3c9a1b-x1Y2z3', '/tmp', 'clusterdesk')).toBeNull();
  });

  it.each([
    ['/', 'not a normalized path'],
    ['/home/x', 'not directly under'],
    ['../..', 'not an absolute path'],
    ['', 'no temp folder recorded'],
    ['/tmp', 'not directly under'],
    ['/tmp/', 'not a normalized path'],
    ['/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH/..', 'not a normalized path'],
    ['/tmp//clusterdesk-0f3c9a1b-Ab3dE6gH', 'not a normalized path'],
    ['/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH/sub', 'not directly under'],
    ['/var/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH', 'not directly under'],
    ['/tmp/clusterdesk-0f3c9a1b-Ab3d E6gH', 'does not match'],
    ['/tmp/clusterdesk-0f3c9a1b-$(touch x)', 'does not match'],
    ['/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH\nx', 'control characters'],
    ['/tmp/tmpa1b2c3d4', 'does not match'],
    ['/tmp/project', 'does not match'],
  ])('refuses %j (%s)', (path, why) => {
    expect(tmpDirRefusal(path, '/tmp', 'clusterdesk')).toContain(why);
  });

  it("accepts ReFedEz's /tmp/<uuid4> names only for records adopted from ReFedEz", () => {
    const id = '439eadc9-69db-4d3c-a635-d25b16cc3cb7';
    expect(tmpDirRefusal(`/tmp/${id}`, '/tmp', 'refedez')).toBeNull();
    expect(tmpDirRefusal(`/tmp/${id}`, '/tmp', 'clusterdesk')).not.toBeNull();
    // Not a version-4 UUID, upper case, Python's mkdtemp names, or not directly under the temp root.
    expect(tmpDirRefusal('/tmp/439eadc9-69db-1d3c-a635-d25b16cc3cb7', '/tmp', 'refedez')).toContain('neither');
    expect(tmpDirRefusal(`/tmp/${id.toUpperCase()}`, '/tmp', 'refedez')).toContain('neither');
    expect(tmpDirRefusal('/tmp/tmpa1b2_3d4', '/tmp', 'refedez')).toContain('neither');
    expect(tmpDirRefusal(`/tmp/${id}x`, '/tmp', 'refedez')).not.toBeNull();
    expect(tmpDirRefusal(`/home/ana/${id}`, '/tmp', 'refedez')).toContain('not directly under');
    expect(tmpDirRefusal(`/tmp/${id}/..`, '/tmp', 'refedez')).toContain('not a normalized');
  });

  it('refuses a folder named after another lineage', () => {
    const lineage = '0f3c9a1b-2222-4333-8444-555566667777';
    expect(tmpDirRefusal('/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH', '/tmp', 'clusterdesk', lineage)).toBeNull();
    expect(tmpDirRefusal('/tmp/clusterdesk-deadbeef-Ab3dE6gH', '/tmp', 'clusterdesk', lineage)).toContain('another deployment');
    expect(tmpDirRefusal('/tmp/clusterdesk-deadbeef-Ab3dE6gH', '/tmp', 'refedez', lineage)).toContain('another deployment');
    expect(realDirRefusal('/tmp/clusterdesk-deadbeef-Ab3dE6gH', '/tmp/clusterdesk-deadbeef-Ab3dE6gH', '/tmp', 'clusterdesk', lineage)).toContain(
      'another deployment',
    );
  });

  it('stop only needs a normalized folder other than / and the temp root', () => {
    expect(stopDirRefusal('/tmp/439eadc9-69db-4d3c-a635-d25b16cc3cb7', '/tmp')).toBeNull();
    expect(stopDirRefusal('/srv/fl/site1', '/tmp')).toBeNull();
    expect(stopDirRefusal('/tmp/tmpa1b2_3d4', '/tmp')).toBeNull();
    expect(stopDirRefusal('/', '/tmp')).toContain('root folder');
    expect(stopDirRefusal('/tmp', '/tmp')).toContain('temp root');
    expect(stopDirRefusal('/tmp/', '/tmp')).toContain('not a normalized');
    expect(stopDirRefusal('tmp/x', '/tmp')).toContain('not an absolute');
    expect(stopDirRefusal('', '/tmp')).toContain('no temp folder');
    expect(stopDirRefusal('/tmp/a\nb', '/tmp')).toContain('control characters');
  });

  it('checks the real path the machine reports', () => {
    const rec = '/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH';
    expect(realDirRefusal(rec, rec, '/tmp', 'clusterdesk')).toBeNull();
    // macOS: /tmp is a symlink to /private/tmp; the real folder is still a direct child of the real root.
    expect(realDirRefusal(rec, '/private/tmp/clusterdesk-0f3c9a1b-Ab3dE6gH', '/private/tmp', 'clusterdesk')).toBeNull();
    expect(realDirRefusal(rec, '/home/victim', '/tmp', 'clusterdesk')).toContain('not directly under');
    expect(realDirRefusal(rec, '/tmp/other', '/tmp', 'clusterdesk')).toContain('differs');
    expect(realDirRefusal(rec, '', '/tmp', 'clusterdesk')).toContain('not a normalized absolute path');
  });

  it('keeps trusted host keys beside refedez.yaml', () => {
    expect(workspaceKnownHostsPath('/p/fed')).toBe('/p/fed/.clusterdesk/known_hosts');
  });
});
