import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../errors';
import { loadFederationConfig, validateFederationConfig } from './federation-config';

const PROJECT = `api_version: 3
name: demo
description: test
participants:
  - name: server1
    type: server
    org: a
  - name: site-1
    type: client
    org: a
  - name: site-2
    type: client
    org: b
  - name: admin@a.org
    type: admin
    org: a
    role: project_admin
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-fedcfg-'));
  await writeFile(join(dir, 'project.yml'), PROJECT);
  await mkdir(join(dir, 'home', '.ssh'), { recursive: true });
  await writeFile(join(dir, 'home', '.ssh', 'config'), 'Host site-two\n  HostName 127.0.5.9\n  User bob\n  Port 2200\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

const opts = () => ({ sshConfigPath: join(dir, 'home', '.ssh', 'config'), homeDir: join(dir, 'home'), localUser: 'me' });

async function firstError(text: string, project?: string) {
  if (project !== undefined) await write('p2.yml', project);
  const p = await write(`c-${Math.random()}.yaml`, text);
  const out = await validateFederationConfig(p, opts());
  if (out.ok) throw new Error('expected errors');
  return out.errors;
}

const GOOD = `refedez:
  folder: ./.refedez
  capabilities: ./project.yml
  kits: ./kits

machines:
  server1:
    type: local
  site-1:
    type: remote
    ip: 127.0.4.3
    user: alice
    port: 2222
    identity: ./keys/id
  site-2:
    type: remote
    ip: site-two

project:
  server1:
    folder: .
  site-1:
    folder: ./work
`;

describe('federation config', () => {
  it('normalizes a valid config: absolute paths, state folder, resolved ssh, project order', async () => {
    const cfg = await loadFederationConfig(await write('refedez.yaml', GOOD), opts());
    expect(cfg).toMatchObject({
      configPath: join(dir, 'refedez.yaml'),
      stateFolder: join(dir, '.refedez'),
      statePath: join(dir, '.refedez', 'state.json'),
      projectFile: join(dir, 'project.yml'),
      projectName: 'demo',
      kitsFolder: join(dir, 'kits'),
      warnings: [],
    });
    expect(cfg.participants.map((p) => p.type)).toEqual(['server', 'client', 'client', 'admin']);
    expect(cfg.machines.map((m) => [m.name, m.role, m.kind, m.projectFolder])).toEqual([
      ['server1', 'server', 'local', dir],
      ['site-1', 'client', 'remote', join(dir, 'work')],
      ['site-2', 'client', 'remote', null],
    ]);
    expect(cfg.machines[1]!.target).toEqual({
      kind: 'remote',
      ssh: expect.objectContaining({ host: '127.0.4.3', port: 2222, user: 'alice', identityFiles: [join(dir, 'keys', 'id')] }),
    });
    // site-2 resolves through the ~/.ssh/config alias.
    expect(cfg.machines[2]!.target).toEqual({
      kind: 'remote',
      ssh: expect.objectContaining({ alias: 'site-two', host: '127.0.5.9', port: 2200, user: 'bob' }),
    });
  });

  it('defaults the state folder and accepts ReFedEz files as they are (no port, identity or kits)', async () => {
    const cfg = await loadFederationConfig(
      await write(
        'plain.yaml',
        `refedez:\n  capabilities: project.yml\nmachines:\n  server1: {type: local}\n  site-1: {type: local}\n  site-2: {type: local}\n`,
      ),
      opts(),
    );
    expect(cfg.stateFolder).toBe(join(dir, '.refedez'));
    expect(cfg.kitsFolder).toBeNull();
  });

  it('names the line of a YAML syntax error', async () => {
    const errors = await firstError('refedez:\n  folder: x\n  capabilities: [oops\nmachines: {}\n');
    expect(errors[0]).toMatchObject({ code: 'config-invalid', line: expect.any(Number) });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('names file, line and field for bad values', async () => {
    const errors = await firstError(GOOD.replace('port: 2222', 'port: lots').replace('type: local', 'type: cloud'));
    expect(errors).toEqual([
      expect.objectContaining({ path: expect.stringMatching(/\.yaml$/), line: 8, field: 'machines.server1.type', message: expect.stringContaining('"cloud"') }),
      expect.objectContaining({ line: 13, field: 'machines.site-1.port' }),
    ]);
  });

  it('requires a machine per non-admin participant and a participant per machine', async () => {
    const errors = await firstError(
      `refedez:\n  capabilities: ./project.yml\nmachines:\n  server1: {type: local}\n  site-1: {type: local}\n  site-9: {type: local}\n  admin@a.org: {type: local}\n`,
    );
    expect(errors.map((e) => [e.field, e.line, e.path?.endsWith('project.yml')])).toEqual([
      ['participants.2.name', 11, true],
      ['machines.site-9', 6, false],
      ['machines.admin@a.org', 7, false],
    ]);
  });

  it('reports a missing capabilities file and missing sections', async () => {
    expect((await firstError('refedez:\n  capabilities: ./nope.yml\nmachines: {}\n'))[0]).toMatchObject({
      field: 'refedez.capabilities',
      line: 2,
      message: expect.stringContaining('nope.yml'),
    });
    expect((await firstError('machines:\n  a: {type: local}\n'))[0]).toMatchObject({ field: 'refedez', message: expect.stringContaining('missing') });
    expect((await firstError('- just\n- a list\n'))[0]).toMatchObject({ line: 1 });
  });

  it('validates project.yml participants with their lines', async () => {
    const errors = await firstError(
      'refedez:\n  capabilities: ./p2.yml\nmachines:\n  s: {type: local}\n',
      'name: x\nparticipants:\n  - name: s\n    type: server\n  - name: ../evil\n    type: client\n  - name: c\n    type: robot\n',
    );
    expect(errors.slice(0, 2)).toEqual([
      expect.objectContaining({ field: 'participants.1.name', line: 5 }),
      expect.objectContaining({ field: 'participants.2.type', line: 8 }),
    ]);
  });

  it('requires ip for remote machines; warns about unknown keys and passwords without failing', async () => {
    expect((await firstError(GOOD.replace('    ip: site-two\n', '')))[0]).toMatchObject({ field: 'machines.site-2.ip', line: 15 });
    const cfg = await loadFederationConfig(
      await write('warn.yaml', GOOD.replace('    user: alice\n', '    user: alice\n    password: hunter2\n    colour: blue\n')),
      opts(),
    );
    expect(cfg.warnings.map((w) => [w.field, w.line])).toEqual([
      ['machines.site-1.password', 13],
      ['machines.site-1.colour', 14],
    ]);
    expect(JSON.stringify(cfg)).not.toContain('hunter2');
  });

  it('loadFederationConfig throws the first error as an AppError carrying all of them', async () => {
    const p = await write('bad.yaml', 'refedez:\n  capabilities: ./project.yml\nmachines:\n  nope: {type: local}\n');
    const err = await loadFederationConfig(p, opts()).catch((e: unknown) => e);
    expect(isAppError(err, 'config-invalid')).toBe(true);
    expect(err).toMatchObject({ fields: { path: join(dir, 'project.yml'), line: 5, field: 'participants.0.name', details: { errors: expect.any(Array) } } });
  });
});
