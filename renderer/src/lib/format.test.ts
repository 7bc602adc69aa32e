import { describe, expect, it } from 'vitest';
import type { BackupEntry, ImportPreview, WorkspaceSnapshot } from '../../../preload/contract';
import { newestValidBackup, sortBackups } from './backups';
import { describeDrift, errorLocation, formatMemory, formatTimestamp, importChanges, importNeeds, restoreChanges, shortLineage } from './format';
import { hostKeyInfo } from './host-key';
import { errorSnapshot, operationLabel } from './snapshot';

const snap: WorkspaceSnapshot = {
  id: 'w',
  kind: 'cluster',
  name: 'hpc',
  path: '/c/cluster.yaml',
  statePath: '/c/output/state.json',
  status: 'running',
  serial: 9,
  lineage: 'abcdef0123456789',
  lastModified: null,
  lock: null,
  error: null,
  operation: null,
  cluster: {
    clusterName: 'hpc',
    vms: [
      { name: 'a', role: 'controller', state: 'RUNNING', ipAddress: null, ipVerified: true, cpuCores: 1, memoryGb: 1, gpuCount: 0, lastSeen: null },
      { name: 'b', role: 'compute', state: 'RUNNING', ipAddress: null, ipVerified: true, cpuCores: 1, memoryGb: 1, gpuCount: 0, lastSeen: null },
    ],
    networks: [],
    volumes: [],
    pools: [],
  },
};

function backup(over: Partial<BackupEntry>): BackupEntry {
  return {
    id: 'x',
    source: 'history',
    file: 'f',
    valid: true,
    serial: 1,
    lineage: 'abcdef0123456789',
    savedAt: '2024-01-01T00:00:00Z',
    status: 'stopped',
    count: 5,
    ...over,
  };
}

describe('formatters', () => {
  it('formats timestamps and tolerates junk', () => {
    expect(formatTimestamp(null)).toBe('—');
    expect(formatTimestamp('not a date')).toBe('not a date');
    expect(formatTimestamp('2024-05-01T13:04:05')).toBe('2024-05-01 13:04:05'); // no zone → local time
  });
  it('shortens lineages to 8 characters', () => {
    expect(shortLineage('3f1c2a9e-7b6d-4e0a')).toBe('3f1c2a9e');
    expect(shortLineage(null)).toBe('—');
  });
  it('formats memory', () => {
    expect(formatMemory(32)).toBe('32 GB');
    expect(formatMemory(0.5)).toBe('0.5 GB');
  });
  it('locates errors by path:line, field and host', () => {
    expect(errorLocation({ code: 'config-invalid', message: 'm', path: '/c.yaml', line: 3, field: 'a.b' })).toBe('/c.yaml:3 · field a.b');
    expect(errorLocation({ code: 'ssh-auth', message: 'm', host: 'h' })).toBe('host h');
    expect(errorLocation({ code: 'internal', message: 'm' })).toBeNull();
  });
});

describe('restoreChanges', () => {
  it('shows status, VM count, serial and lineage, current → backup', () => {
    const rows = restoreChanges(snap, backup({ serial: 7, status: 'stopped', count: 5 }));
    expect(rows).toEqual([
      { label: 'Status', from: 'running', to: 'stopped', changed: true },
      { label: 'VMs', from: '2', to: '5', changed: true },
      // The backup holds serial 7, but a restore writes a new generation after the current one.
      { label: 'Serial', from: '9', to: '10', changed: true },
      { label: 'Lineage', from: 'abcdef01', to: 'abcdef01', changed: false },
    ]);
  });
  it('announces the serial really written: past the current file and every history generation', () => {
    const list = [
      backup({ id: 'history:000015', serial: 15 }),
      backup({ id: 'history:000012', serial: 12 }),
      backup({ id: 'backup', source: 'backup', serial: 15 }),
    ];
    const rows = restoreChanges({ ...snap, serial: 15 }, list[1]!, list);
    expect(rows[2]).toEqual({ label: 'Serial', from: '15', to: '16', changed: true });
  });
  it('treats an unreadable current state as error with unknown counts', () => {
    const broken = { ...snap, status: null, serial: null, cluster: undefined, error: { code: 'state-corrupt' as const, message: 'bad' } };
    const rows = restoreChanges(broken, backup({}));
    expect(rows[0]).toEqual({ label: 'Status', from: 'error', to: 'stopped', changed: true });
    expect(rows[1]).toEqual({ label: 'VMs', from: '—', to: '5', changed: true });
  });
  it('says Machines for a federation', () => {
    const fed = { ...snap, kind: 'federation' as const, cluster: undefined, federation: { deployedFilesPath: null, machines: [] } };
    expect(restoreChanges(fed, backup({}))[1]).toMatchObject({ label: 'Machines', from: '0' });
  });
});

describe('import preview', () => {
  const preview: ImportPreview = {
    verdict: 'needs-adopt',
    reason: 'r',
    current: { serial: 3, lineage: 'aaaaaaaa-1', status: 'running' },
    incoming: { serial: 5, lineage: 'bbbbbbbb-2', status: 'stopped' },
    added: [],
    removed: [],
    changed: [],
  };
  it('lists current → incoming', () => {
    expect(importChanges(preview).map((r) => [r.label, r.from, r.to])).toEqual([
      ['Status', 'running', 'stopped'],
      ['Serial', '3', '5'],
      ['Lineage', 'aaaaaaaa', 'bbbbbbbb'],
    ]);
  });
  it('maps verdicts to the overrides Apply needs', () => {
    expect(importNeeds('accept')).toEqual({ force: false, adopt: false, noop: false });
    expect(importNeeds('needs-force')).toEqual({ force: true, adopt: false, noop: false });
    expect(importNeeds('needs-adopt')).toEqual({ force: false, adopt: true, noop: false });
    expect(importNeeds('identical')).toEqual({ force: false, adopt: false, noop: true });
  });
});

describe('describeDrift', () => {
  it('writes one sentence per kind', () => {
    expect(describeDrift({ kind: 'state-differs', resource: 'vm', name: 'n1', recorded: 'RUNNING', actual: 'SHUTOFF' })).toBe(
      'VM n1: recorded RUNNING, actually SHUTOFF',
    );
    expect(describeDrift({ kind: 'missing', resource: 'network', name: 'net', recorded: null, actual: null })).toBe(
      'Network net: recorded but missing from libvirt',
    );
    expect(describeDrift({ kind: 'unrecorded', resource: 'volume', name: 'v', recorded: null, actual: '20 GB' })).toBe(
      'Volume v: exists (20 GB) but is not recorded',
    );
    expect(describeDrift({ kind: 'ip-differs', resource: 'vm', name: 'n', recorded: null, actual: '10.0.0.2' })).toBe('VM n: recorded IP —, actually 10.0.0.2');
  });
});

describe('backups', () => {
  it('picks the newest valid backup by time, then serial', () => {
    const list = [
      backup({ id: 'old', savedAt: '2024-01-01T00:00:00Z', serial: 1 }),
      backup({ id: 'newest-invalid', savedAt: '2024-03-01T00:00:00Z', valid: false, serial: null }),
      backup({ id: 'new', savedAt: '2024-02-01T00:00:00Z', serial: 2 }),
      backup({ id: 'tie-higher', savedAt: '2024-02-01T00:00:00Z', serial: 3 }),
    ];
    expect(newestValidBackup(list)?.id).toBe('tie-higher');
    expect(sortBackups(list).map((b) => b.id)).toEqual(['newest-invalid', 'tie-higher', 'new', 'old']);
  });
  it('returns null when nothing is valid, and sorts undated entries last', () => {
    expect(newestValidBackup([backup({ valid: false })])).toBeNull();
    expect(newestValidBackup([backup({ id: 'undated', savedAt: null, serial: 99 }), backup({ id: 'dated', serial: 1 })])?.id).toBe('dated');
  });
});

describe('hostKeyInfo', () => {
  it('reads host, port and fingerprint from details', () => {
    expect(hostKeyInfo({ code: 'ssh-hostkey-unknown', message: 'm', details: { host: 'h', port: 2222, fingerprint: 'SHA256:x' } })).toEqual({
      host: 'h',
      port: 2222,
      fingerprint: 'SHA256:x',
    });
  });
  it('falls back to error.host and port 22, and refuses incomplete details', () => {
    expect(hostKeyInfo({ code: 'ssh-hostkey-unknown', message: 'm', host: 'h2', details: { fingerprint: 'f' } })).toEqual({
      host: 'h2',
      port: 22,
      fingerprint: 'f',
    });
    expect(hostKeyInfo({ code: 'ssh-hostkey-unknown', message: 'm', host: 'h' })).toBeNull();
    expect(hostKeyInfo({ code: 'ssh-hostkey-unknown', message: 'm', details: { host: 'h', port: 70000, fingerprint: 'f' } })).toBeNull();
  });
});

describe('snapshot helpers', () => {
  it('builds an error snapshot from an entry', () => {
    const e = errorSnapshot(
      { id: 'w', kind: 'federation', name: 'f', path: '/f', statePath: '/f/.refedez/state.json', addedAt: '' },
      { code: 'workspace-not-found', message: 'gone' },
    );
    expect(e).toMatchObject({ id: 'w', kind: 'federation', status: null, error: { code: 'workspace-not-found' } });
  });
  it('labels operations', () => {
    expect(operationLabel('cluster:start')).toBe('Start cluster');
    expect(operationLabel('federation:weird-thing')).toBe('Weird thing');
    expect(operationLabel('stop')).toBe('Stop');
  });
});
