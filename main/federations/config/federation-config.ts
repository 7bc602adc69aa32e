/**
 * refedez.yaml + the FLARE project.yml it names → a normalized FederationConfig (absolute paths, the state folder,
 * one machine per non-admin participant with its connection settings resolved).
 *
 * Lenient like ReFedEz where it costs nothing (unknown keys are warnings, `user` may come from ~/.ssh/config), strict
 * where a mistake would deploy to the wrong place (participants and machines must match one to one). Relative paths
 * are relative to the refedez.yaml folder (ReFedEz used the working directory, which for the CLI is the same folder).
 */
import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ErrorData } from '../../../preload/contract';
import { AppError } from '../../errors';
import { backendOfConfigBlock } from '../../state/backends/backend-config';
import type { MachineTarget } from '../machines/index';
import { resolveSsh, type SshResolveOptions } from '../machines/ssh-settings';
import { type PathSeg, YamlSource } from './yaml-source';

export type ParticipantType = 'server' | 'client' | 'admin' | 'overseer';

export interface Participant {
  readonly name: string;
  readonly type: ParticipantType;
}

export interface FederationMachine {
  /** The participant name (= the machine's key in refedez.yaml). */
  readonly name: string;
  readonly role: Exclude<ParticipantType, 'admin'>;
  readonly kind: 'local' | 'remote';
  /** `project.<name>.folder`, absolute, when given. */
  readonly projectFolder: string | null;
  readonly target: MachineTarget;
}

export interface ConfigWarning {
  readonly path: string;
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

export interface FederationConfig {
  /** Absolute path of refedez.yaml. */
  readonly configPath: string;
  readonly baseDir: string;
  /** `refedez.folder`, absolute (default `<baseDir>/.refedez`). */
  readonly stateFolder: string;
  /** `<stateFolder>/state.json`. */
  readonly statePath: string;
  /** `refedez.capabilities`, absolute: the FLARE project.yml. */
  readonly projectFile: string;
  /** project.yml `name` (FLARE puts provisioned kits under `<workspace>/<name>/prod_NN`). */
  readonly projectName: string | null;
  /** An already-provisioned kits folder (`refedez.kits` or top-level `kits`), absolute. */
  readonly kitsFolder: string | null;
  readonly participants: readonly Participant[];
  /** One per non-admin participant, in project.yml order. */
  readonly machines: readonly FederationMachine[];
  readonly warnings: readonly ConfigWarning[];
}

/** How remote machines' SSH settings are resolved (the ssh config path and home are injectable for tests). */
export type LoadConfigOptions = Omit<SshResolveOptions, 'baseDir'>;

export type ValidationOutcome = { readonly ok: true; readonly config: FederationConfig } | { readonly ok: false; readonly errors: readonly ErrorData[] };

const REFEDEZ_KEYS = new Set(['folder', 'capabilities', 'kits']);
const MACHINE_KEYS = new Set(['type', 'ip', 'user', 'port', 'identity']);
const PARTICIPANT_TYPES: readonly ParticipantType[] = ['server', 'client', 'admin', 'overseer'];
/** FLARE's participant names become folder names; refuse anything that could escape a folder. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Loads and validates; throws the first `config-invalid` error (all of them are in `details.errors`). */
export async function loadFederationConfig(configPath: string, opts: LoadConfigOptions = {}): Promise<FederationConfig> {
  const outcome = await validateFederationConfig(configPath, opts);
  if (outcome.ok) return outcome.config;
  const [first, ...rest] = outcome.errors;
  throw new AppError('config-invalid', first!.message, {
    ...(first!.path ? { path: first!.path } : {}),
    ...(first!.line ? { line: first!.line } : {}),
    ...(first!.field ? { field: first!.field } : {}),
    ...(first!.hint ? { hint: first!.hint } : {}),
    ...(rest.length > 0 ? { details: { errors: outcome.errors } } : {}),
  });
}

/** Validates refedez.yaml and its project.yml, collecting every error (for the UI's validation view). */
export async function validateFederationConfig(configPath: string, opts: LoadConfigOptions = {}): Promise<ValidationOutcome> {
  const absConfig = resolve(configPath);
  const baseDir = dirname(absConfig);
  let src: YamlSource;
  try {
    src = await YamlSource.load(absConfig, 'refedez.yaml');
  } catch (err) {
    if (err instanceof AppError) return { ok: false, errors: [err.toData()] };
    throw err;
  }
  const errors: ErrorData[] = [];
  const warnings: ConfigWarning[] = [];
  const err = (path: readonly PathSeg[], message: string, hint: string) => errors.push(src.error(path, message, hint));
  const warn = (s: YamlSource, path: readonly PathSeg[], message: string) =>
    warnings.push({ path: s.path, line: s.lineOf(path), field: path.join('.'), message });
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  const root = src.value();
  if (!isRecord(root)) {
    err([], 'expected a mapping with refedez, machines and project', 'Start from examples/federation/refedez.yaml.');
    return { ok: false, errors };
  }
  for (const key of Object.keys(root)) {
    if (!['refedez', 'machines', 'project', 'kits', 'clusterdesk'].includes(key)) warn(src, [key], `unknown key "${key}" is ignored`);
  }
  // Our own block: `clusterdesk: { backend: postgres://… }` (which database holds the state; ReFedEz ignores it).
  if (root.clusterdesk !== undefined && root.clusterdesk !== null) {
    if (!isRecord(root.clusterdesk))
      err(['clusterdesk'], 'expected a mapping', 'For example: clusterdesk: { backend: postgres://me@db:5432/lab?schema=clusterdesk }.');
    else {
      for (const key of Object.keys(root.clusterdesk)) if (key !== 'backend') warn(src, ['clusterdesk', key], `unknown key "${key}" is ignored`);
      try {
        backendOfConfigBlock(root.clusterdesk, 'federation', absConfig);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        err(['clusterdesk', 'backend'], e.message.replace(`${absConfig}: clusterdesk.backend: `, ''), e.fields.hint ?? '');
      }
    }
  }

  // refedez: {folder, capabilities, kits?}
  const rz = root.refedez;
  let stateFolder = join(baseDir, '.refedez');
  let projectFile: string | null = null;
  let kitsFolder: string | null = null;
  if (!isRecord(rz)) {
    err(['refedez'], rz === undefined ? 'missing' : 'expected a mapping', 'Add "refedez:" with "folder" and "capabilities" (the FLARE project.yml).');
  } else {
    for (const key of Object.keys(rz)) if (!REFEDEZ_KEYS.has(key)) warn(src, ['refedez', key], `unknown key "${key}" is ignored`);
    if (rz.folder !== undefined) {
      if (typeof rz.folder !== 'string' || rz.folder.trim() === '') err(['refedez', 'folder'], 'expected a folder path', 'For example "./.refedez".');
      else stateFolder = abs(rz.folder);
    }
    if (typeof rz.capabilities !== 'string' || rz.capabilities.trim() === '') {
      err(
        ['refedez', 'capabilities'],
        rz.capabilities === undefined ? 'missing' : 'expected a file path',
        'Point it at the FLARE project.yml, e.g. "./project.yml".',
      );
    } else {
      projectFile = abs(rz.capabilities);
    }
    if (rz.kits !== undefined) {
      if (typeof rz.kits !== 'string' || rz.kits.trim() === '')
        err(['refedez', 'kits'], 'expected a folder path', 'The folder holding one provisioned kit per participant.');
      else kitsFolder = abs(rz.kits);
    }
  }
  if (root.kits !== undefined) {
    if (typeof root.kits !== 'string' || root.kits.trim() === '')
      err(['kits'], 'expected a folder path', 'The folder holding one provisioned kit per participant.');
    else if (kitsFolder === null) kitsFolder = abs(root.kits);
  }

  // machines: {NAME: {type, ip, user, port?, identity?}}
  interface RawMachine {
    readonly name: string;
    readonly kind: 'local' | 'remote';
    readonly ip?: string;
    readonly user?: string;
    readonly port?: number;
    readonly identity?: string;
  }
  const rawMachines: RawMachine[] = [];
  const machinesNode = root.machines;
  if (!isRecord(machinesNode)) {
    err(
      ['machines'],
      machinesNode === undefined ? 'missing' : 'expected a mapping of participant name → machine',
      'Add one machine per participant of project.yml.',
    );
  } else {
    for (const [name, m] of Object.entries(machinesNode)) {
      const at = ['machines', name];
      if (!NAME_RE.test(name)) {
        err(at, `"${name}" is not a valid participant name`, 'Use letters, digits, ".", "_", "-" and "@", as in project.yml.');
        continue;
      }
      if (!isRecord(m)) {
        err(at, 'expected a mapping with "type"', 'For example: { type: local } or { type: remote, ip: 10.0.0.5, user: alice }.');
        continue;
      }
      for (const key of Object.keys(m)) {
        if (key === 'password') warn(src, [...at, key], 'passwords are never read from files and this one is ignored; use a key or ssh-agent');
        else if (!MACHINE_KEYS.has(key)) warn(src, [...at, key], `unknown key "${key}" is ignored`);
      }
      if (m.type !== 'local' && m.type !== 'remote') {
        err([...at, 'type'], m.type === undefined ? 'missing' : `"${String(m.type)}" is not a machine type`, 'Use "local" or "remote".');
        continue;
      }
      let bad = false;
      const optString = (key: string): string | undefined => {
        const v = m[key];
        if (v === undefined || v === null) return undefined;
        if (typeof v === 'number' && key === 'ip') return String(v);
        if (typeof v !== 'string' || v.trim() === '') {
          err([...at, key], 'expected a non-empty string', key === 'ip' ? 'An address, a host name or a ~/.ssh/config Host alias.' : 'Quote the value.');
          bad = true;
          return undefined;
        }
        return v.trim();
      };
      const ip = optString('ip');
      const user = optString('user');
      const identity = optString('identity');
      let port: number | undefined;
      if (m.port !== undefined && m.port !== null) {
        if (typeof m.port !== 'number' || !Number.isInteger(m.port) || m.port < 1 || m.port > 65535) {
          err([...at, 'port'], `"${String(m.port)}" is not a TCP port`, 'Use a whole number 1..65535 (default 22).');
          bad = true;
        } else {
          port = m.port;
        }
      }
      if (m.type === 'remote' && ip === undefined && !bad) {
        err([...at, 'ip'], 'missing for a remote machine', 'Give its address, host name or ~/.ssh/config alias.');
        bad = true;
      }
      if (ip !== undefined && /[\s@]|^-/.test(ip)) {
        err([...at, 'ip'], `"${ip}" is not a host`, 'Give the host alone; put the user in "user" and the port in "port".');
        bad = true;
      }
      if (user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(user)) {
        err([...at, 'user'], `"${user}" is not a user name`, 'Give the login name on that machine.');
        bad = true;
      }
      if (bad) continue;
      rawMachines.push({
        name,
        kind: m.type,
        ...(ip !== undefined ? { ip } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(identity !== undefined ? { identity } : {}),
      });
    }
  }

  // project: {NAME: {folder}}
  const projectFolders = new Map<string, string>();
  const projectNode = root.project;
  if (projectNode !== undefined && projectNode !== null) {
    if (!isRecord(projectNode)) {
      err(['project'], 'expected a mapping of participant name → { folder }', 'Or leave "project" out.');
    } else {
      for (const [name, p] of Object.entries(projectNode)) {
        if (isRecord(p) && typeof p.folder === 'string' && p.folder.trim() !== '') {
          projectFolders.set(name, abs(p.folder));
          for (const key of Object.keys(p)) if (key !== 'folder') warn(src, ['project', name, key], `unknown key "${key}" is ignored`);
        } else {
          err(['project', name, 'folder'], 'expected { folder: PATH }', 'The participant\'s project folder, e.g. "." .');
        }
        if (isRecord(machinesNode) && !(name in machinesNode)) warn(src, ['project', name], `no machine "${name}"; this entry is unused`);
      }
    }
  }

  // project.yml: participants[] {name, type}
  const participants: Participant[] = [];
  let projectName: string | null = null;
  let projectSrc: YamlSource | null = null;
  if (projectFile !== null) {
    try {
      await access(projectFile);
      projectSrc = await YamlSource.load(projectFile, 'project.yml');
    } catch (e) {
      if (!(e instanceof AppError)) {
        errors.push({ ...src.error(['refedez', 'capabilities'], `${projectFile} does not exist`, 'Point "capabilities" at the FLARE project.yml.') });
      } else {
        errors.push(e.toData());
      }
    }
  }
  if (projectSrc) {
    const p = projectSrc.value();
    const perr = (path: readonly PathSeg[], message: string, hint: string) => errors.push(projectSrc!.error(path, message, hint));
    if (!isRecord(p)) {
      perr([], 'expected a FLARE project mapping', 'See examples/federation/project.yml.');
    } else {
      if (typeof p.name === 'string' && p.name.trim() !== '') projectName = p.name.trim();
      if (!Array.isArray(p.participants) || p.participants.length === 0) {
        perr(['participants'], p.participants === undefined ? 'missing' : 'expected a non-empty list', 'List the server, the clients and the admins.');
      } else {
        const seen = new Set<string>();
        p.participants.forEach((part: unknown, i: number) => {
          if (!isRecord(part))
            return perr(['participants', i], 'expected a mapping with name and type', 'For example: { name: site-1, type: client, org: nvidia }.');
          const { name, type } = part;
          if (typeof name !== 'string' || !NAME_RE.test(name)) {
            return perr(['participants', i, 'name'], `"${String(name)}" is not a valid participant name`, 'Use letters, digits, ".", "_", "-" and "@".');
          }
          if (typeof type !== 'string' || !PARTICIPANT_TYPES.includes(type as ParticipantType)) {
            return perr(['participants', i, 'type'], `"${String(type)}" is not a participant type`, 'Use server, client or admin.');
          }
          if (seen.has(name)) return perr(['participants', i, 'name'], `"${name}" appears twice`, 'Participant names must be unique.');
          seen.add(name);
          participants.push({ name, type: type as ParticipantType });
        });
      }
    }
  }

  // One machine per non-admin participant, and no machine without a participant.
  const machines: FederationMachine[] = [];
  if (projectSrc && isRecord(machinesNode)) {
    const byName = new Map(rawMachines.map((m) => [m.name, m]));
    const needing = participants.filter((p) => p.type !== 'admin');
    const participantIndex = (name: string) => {
      const list = (projectSrc!.value() as { participants?: { name?: unknown }[] }).participants ?? [];
      return list.findIndex((x) => isRecord(x) && x.name === name);
    };
    for (const p of needing) {
      if (!(p.name in machinesNode)) {
        errors.push(
          projectSrc.error(
            ['participants', participantIndex(p.name), 'name'],
            `participant "${p.name}" has no machine in refedez.yaml`,
            `Add "machines: ${p.name}: { type: local }" (or remote) to refedez.yaml.`,
          ),
        );
      }
    }
    for (const name of Object.keys(machinesNode)) {
      const part = participants.find((p) => p.name === name);
      if (!part) err(['machines', name], `no participant "${name}" in project.yml`, 'Machine names must match the participant names of project.yml exactly.');
      else if (part.type === 'admin')
        err(
          ['machines', name],
          `"${name}" is an admin participant, which runs no process`,
          'Remove this machine; admins use the admin console from their own computer.',
        );
    }
    if (errors.length === 0) {
      for (const p of needing) {
        const m = byName.get(p.name)!;
        const target: MachineTarget =
          m.kind === 'local'
            ? { kind: 'local' }
            : {
                kind: 'remote',
                ssh: await resolveSsh(
                  { host: m.ip!, ...(m.user ? { user: m.user } : {}), ...(m.port ? { port: m.port } : {}), ...(m.identity ? { identity: m.identity } : {}) },
                  { ...opts, baseDir },
                ),
              };
        machines.push({ name: p.name, role: p.type as FederationMachine['role'], kind: m.kind, projectFolder: projectFolders.get(p.name) ?? null, target });
      }
    }
  }

  if (errors.length > 0 || projectFile === null) return { ok: false, errors };
  return {
    ok: true,
    config: {
      configPath: absConfig,
      baseDir,
      stateFolder,
      statePath: join(stateFolder, 'state.json'),
      projectFile,
      projectName,
      kitsFolder,
      participants,
      machines,
      warnings,
    },
  };
}
