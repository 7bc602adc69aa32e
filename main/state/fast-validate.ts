/**
 * A hand-written check of the cluster schema for the hot path.
 *
 * A 10,000-VM state is validated on every load and every save; zod is fast but clones every object it checks. This
 * function only answers "certainly valid" (true) or "ask zod" (false): zod stays the single source of the error
 * message, and a property test checks that `true` here always means zod accepts the value.
 */
import { CLUSTER_STATUSES, CLUSTER_TYPES, VM_STATES } from './schema';

const vmStates: ReadonlySet<unknown> = new Set(VM_STATES);
const clusterStatuses: ReadonlySet<unknown> = new Set(CLUSTER_STATUSES);
const clusterTypes: ReadonlySet<unknown> = new Set(CLUSTER_TYPES);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNonEmptyStr = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const isNonNegInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isNonNegNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isOptStr = (v: unknown): boolean => v === undefined || typeof v === 'string';

function isStrArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function isVm(v: unknown): boolean {
  return (
    isObj(v) &&
    isNonEmptyStr(v.name) &&
    isNonNegInt(v.cpu_cores) &&
    isNonNegNum(v.memory_gb) &&
    vmStates.has(v.state) &&
    (v.ip_address === null || isStr(v.ip_address)) &&
    isNonNegInt(v.gpu_count) &&
    isStrArray(v.volumes) &&
    isStr(v.created_at) &&
    (v.last_seen === null || isStr(v.last_seen))
  );
}

const isNetwork = (v: unknown): boolean => isObj(v) && isNonEmptyStr(v.name) && isStr(v.subnet) && isStr(v.bridge) && isStrArray(v.active_ips);

const isVolume = (v: unknown): boolean => isObj(v) && isNonEmptyStr(v.name) && isStr(v.path) && isNonNegNum(v.size_gb) && isStr(v.format);

const isPool = (v: unknown): boolean => isObj(v) && isNonEmptyStr(v.name) && isStr(v.path);

function every(v: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!check(v[i])) return false;
  return true;
}

/** True when `value` certainly satisfies `clusterStateSchema`; false means "validate with zod for the details". */
export function isCertainlyValidCluster(value: unknown): boolean {
  if (!isObj(value)) return false;
  return (
    isNonEmptyStr(value.cluster_name) &&
    clusterTypes.has(value.cluster_type) &&
    clusterStatuses.has(value.status) &&
    isStr(value.created_at) &&
    isOptStr(value.last_modified) &&
    every(value.vms, isVm) &&
    every(value.networks, isNetwork) &&
    every(value.volumes, isVolume) &&
    (value.pools === undefined || every(value.pools, isPool)) &&
    (value.version === undefined || (Number.isSafeInteger(value.version) && (value.version as number) > 0)) &&
    (value.serial === undefined || isNonNegInt(value.serial)) &&
    (value.lineage === undefined || isNonEmptyStr(value.lineage))
  );
}
