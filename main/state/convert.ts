/**
 * Conversions from the files the original tools write into our formats, and secret stripping.
 *
 * - AI-HOW's implementation writes `controller` / `compute_nodes` / `worker_nodes` / `network_config` with lowercase
 *   VM states instead of the documented `vms[]` / `networks[]`; we read both and always write the documented one.
 * - ReFedEz writes `data.machines[].closure.machine.connection.remote_credentials` (including a password when one was
 *   configured) and no serial or lineage; we read it as our machine records and drop the password on the way in.
 *
 * Conversions are read-only: the original file is only replaced when the user next changes the state through us.
 */
import { redactSecrets, SECRET_KEY_WORDS } from '../secrets/redact';
import type { VmState } from './schema';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------------------------
// Secrets: one rule for the whole app, in main/secrets/redact.ts (docs/state.md "Secrets"). Thin wrappers here so
// callers of the old names keep working.

export { isSecretKey } from '../secrets/redact';

/** The secret words matched in key names (any case, any prefix/suffix, separators ignored). */
export const SECRET_KEYS: readonly string[] = SECRET_KEY_WORDS;

/**
 * Removes secrets at any depth, in place (by key pattern and by value, see main/secrets/redact.ts), and returns the
 * paths removed (e.g. `data.machines[0].password`). Prefer `redactSecrets`, which never changes its input.
 */
export function stripSecrets(value: unknown): string[] {
  const { value: clean, removed } = redactSecrets(value);
  if (removed.length > 0 && isObj(value) && isObj(clean)) {
    for (const key of Object.keys(value)) delete value[key];
    for (const [key, v] of Object.entries(clean)) Object.defineProperty(value, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------------------------
// AI-HOW implementation format → documented format

/** True when `raw` is the AI-HOW implementation's layout (controller / compute_nodes / network_config, no `vms`). */
export function isAiHowImplementation(raw: Obj): boolean {
  return !('vms' in raw) && ('controller' in raw || 'compute_nodes' in raw || 'worker_nodes' in raw || 'network_config' in raw);
}

/** Maps AI-HOW's lowercase VM state names (and libvirt's names) to the documented enum. */
export function vmStateFromName(name: unknown): VmState {
  const s =
    typeof name === 'string'
      ? name
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_')
      : '';
  switch (s) {
    case 'running':
    case 'blocked':
      return 'RUNNING';
    case 'paused':
      return 'PAUSED';
    case 'shutoff':
    case 'shut_off':
    case 'stopped':
      return 'SHUTOFF';
    case 'crashed':
      return 'CRASHED';
    case 'dying':
    case 'shutdown':
    case 'shutting_down':
      return 'DYING';
    case 'pmsuspended':
    case 'suspended':
      return 'PMSUSPENDED';
    default:
      return 'UNDEFINED';
  }
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function convertImplVm(vm: Obj, role: string, root: Obj, volumesOut: Obj[]): Obj {
  const { state, volumes, ...rest } = vm;
  const paths: string[] = [];
  if (Array.isArray(volumes)) {
    for (const v of volumes) {
      if (typeof v === 'string') paths.push(v);
      else if (isObj(v) && typeof v.path === 'string') {
        paths.push(v.path);
        volumesOut.push({
          ...v,
          name: str(v.name) ?? (v.path.split('/').pop() || v.path),
          path: v.path,
          size_gb: num(v.size_gb, 0),
          format: str(v.format) ?? 'qcow2',
        });
      }
    }
  }
  // AI-HOW's VMInfo (state/models.py) records one disk as `volume_path` and a GPU as `gpu_assigned: bool`; both are
  // kept as written (in `rest`) and also mapped to the documented fields.
  if (typeof vm.volume_path === 'string' && vm.volume_path !== '' && !paths.includes(vm.volume_path)) paths.unshift(vm.volume_path);
  const gpuAssigned =
    vm.gpu_assigned === true ? 1 : typeof vm.gpu_assigned === 'number' && Number.isInteger(vm.gpu_assigned) && vm.gpu_assigned > 0 ? vm.gpu_assigned : 0;
  const gpuDevices = Array.isArray(vm.gpu_devices) ? vm.gpu_devices.length : gpuAssigned;
  return {
    ...rest,
    role,
    name: str(vm.name) ?? '',
    cpu_cores: num(vm.cpu_cores, 0),
    memory_gb: num(vm.memory_gb, 0),
    state: vmStateFromName(state),
    ip_address: str(vm.ip_address) ?? null,
    gpu_count: num(vm.gpu_count, gpuDevices),
    volumes: paths,
    created_at: str(vm.created_at) ?? str(root.created_at) ?? '',
    last_seen: str(vm.last_seen) ?? str(vm.last_updated) ?? str(vm.last_modified) ?? str(root.last_modified) ?? null,
  };
}

function deriveStatus(vms: readonly Obj[]): string {
  if (vms.length === 0) return 'stopped';
  const running = vms.filter((v) => v.state === 'RUNNING').length;
  if (running === vms.length) return 'running';
  if (running === 0) return 'stopped';
  return 'partial';
}

/** Converts the AI-HOW implementation's file into the documented format (in memory; unknown fields kept). */
export function fromAiHowImplementation(raw: Obj): Obj {
  const { controller, compute_nodes, worker_nodes, network_config, ...rest } = raw;
  const volumes: Obj[] = [];
  const vms: Obj[] = [];
  if (isObj(controller)) vms.push(convertImplVm(controller, 'controller', raw, volumes));
  for (const [list, role] of [
    [compute_nodes, 'compute'],
    [worker_nodes, 'worker'],
  ] as const) {
    if (Array.isArray(list)) for (const vm of list) if (isObj(vm)) vms.push(convertImplVm(vm, role, raw, volumes));
  }
  const networks: Obj[] = [];
  if (isObj(network_config)) {
    const ips = vms.map((v) => v.ip_address).filter((ip): ip is string => typeof ip === 'string');
    networks.push({
      ...network_config,
      name: str(network_config.name) ?? `${str(raw.cluster_name) ?? 'cluster'}-network`,
      subnet: str(network_config.subnet) ?? '',
      bridge: str(network_config.bridge) ?? '',
      active_ips: Array.isArray(network_config.active_ips) ? network_config.active_ips : ips,
    });
  }
  const status = typeof raw.status === 'string' ? raw.status.toLowerCase() : deriveStatus(vms);
  // AI-HOW writes `created_at` as an ISO string or null.
  const createdAt = str(raw.created_at) ?? str(raw.last_modified) ?? '';
  const existingVolumes = Array.isArray(rest.volumes) ? rest.volumes : [];
  return {
    ...rest,
    cluster_type: typeof raw.cluster_type === 'string' ? raw.cluster_type.toLowerCase() : 'hpc',
    status,
    created_at: createdAt,
    last_modified: str(raw.last_modified) ?? str(raw.created_at),
    vms,
    networks,
    volumes: [...existingVolumes, ...volumes],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ReFedEz's own state file → ours

/** True when `raw` is a federation file written by ReFedEz itself (no `version`; machines carry a `closure`). */
export function isRefedezNative(raw: Obj): boolean {
  if ('version' in raw) return false;
  const data = raw.data;
  if (!isObj(data)) return false;
  const machines = data.machines;
  if (Array.isArray(machines)) return machines.some((m) => isObj(m) && 'closure' in m);
  // ReFedEz writes `"data": {}` for clean and dirty.
  return raw.type === 'dirty' || raw.type === 'clean';
}

function convertRefedezMachine(entry: Obj): Obj {
  const { closure, tmp_dir, ...rest } = entry;
  const c = isObj(closure) ? closure : {};
  const machine = isObj(c.machine) ? c.machine : {};
  const connection = isObj(machine.connection) ? machine.connection : {};
  const creds = isObj(connection.remote_credentials) ? connection.remote_credentials : {};
  const remote = connection.type === 'remote';
  // Everything except the machine itself (the nix closure id, the uploaded project path) is kept for reference.
  const { machine: _machine, ...closureRest } = c;
  void _machine;
  return {
    ...rest,
    name: str(machine.name) ?? '',
    kind: remote ? 'remote' : 'local',
    host: remote ? (str(creds.ip) ?? '') : 'localhost',
    port: remote ? num(creds.port, 22) : 0,
    user: remote ? (str(creds.user) ?? '') : '',
    tmp_dir: str(tmp_dir) ?? '',
    started_at: null,
    ...(Object.keys(closureRest).length > 0 ? { refedez_closure: closureRest } : {}),
  };
}

/** Converts a ReFedEz-written state into ours (in memory): machines flattened, passwords dropped, no header. */
export function fromRefedez(raw: Obj): Obj {
  const data = isObj(raw.data) ? raw.data : {};
  const machines = Array.isArray(data.machines) ? data.machines : [];
  const converted = machines.map((m) => (isObj(m) && 'closure' in m ? convertRefedezMachine(m) : m));
  const out: Obj = { ...raw, data: raw.type === 'clean' ? { ...data } : { ...data, machines: converted } };
  stripSecrets(out);
  return out;
}
