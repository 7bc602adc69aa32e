/**
 * A hand-written check of the cluster schema for the hot path.
 *
 * A 10,000-VM state is validated on every load and every save; zod is fast but clones every object it checks. This
 * function only answers "certainly valid" (true) or "ask zod" (false): zod stays the single source of the error
 * message, and a property test checks that `true` here always means zod accepts the value.
 *
 * It also answers for the nesting limit: `true` means no value in the state nests deeper than `maxDepth` (counted as
 * the text scan `excessiveDepthAt` counts: the top-level object is level 1). The known fields nest 3 levels at most,
 * so only unknown fields (kept on a round trip) are walked, with a bounded recursion. That lets a valid state skip the
 * character scan of its whole text (as long as JSON.parse itself); anything else takes the scan and zod.
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

/** True when `v` (at level `level` counting from 1) and everything inside it nest at most `max` levels. */
function within(v: unknown, level: number, max: number): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (level > max) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!within(v[i], level + 1, max)) return false;
    return true;
  }
  for (const k in v) if (!within((v as Obj)[k], level + 1, max)) return false;
  return true;
}

/**
 * The object's own fields that are objects or arrays, other than the `known` ones (already checked to be flat),
 * nest within the limit; `level` is the object's own level.
 */
function unknownWithin(o: Obj, known: ReadonlySet<string>, level: number, max: number): boolean {
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null && !known.has(k) && !within(v, level + 1, max)) return false;
  }
  return true;
}

const VM_NESTED: ReadonlySet<string> = new Set(['volumes']);
const NETWORK_NESTED: ReadonlySet<string> = new Set(['active_ips']);
const NONE: ReadonlySet<string> = new Set();
const TOP_NESTED: ReadonlySet<string> = new Set(['vms', 'networks', 'volumes', 'pools']);

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

/** Every item passes `check` and nests within `max` levels (items are at level 3: top object, array, item). */
function every(v: unknown, check: (item: unknown) => boolean, nested: ReadonlySet<string>, max: number): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (!check(item) || !unknownWithin(item as Obj, nested, 3, max)) return false;
  }
  return true;
}

/**
 * True when `value` certainly satisfies `clusterStateSchema` and nests at most `maxDepth` levels; false means
 * "scan the text for the depth and validate with zod for the details".
 */
export function isCertainlyValidCluster(value: unknown, maxDepth = 64): boolean {
  if (!isObj(value) || maxDepth < 4) return false;
  return (
    isNonEmptyStr(value.cluster_name) &&
    clusterTypes.has(value.cluster_type) &&
    clusterStatuses.has(value.status) &&
    isStr(value.created_at) &&
    isOptStr(value.last_modified) &&
    every(value.vms, isVm, VM_NESTED, maxDepth) &&
    every(value.networks, isNetwork, NETWORK_NESTED, maxDepth) &&
    every(value.volumes, isVolume, NONE, maxDepth) &&
    (value.pools === undefined || every(value.pools, isPool, NONE, maxDepth)) &&
    unknownWithin(value, TOP_NESTED, 1, maxDepth) &&
    (value.version === undefined || (Number.isSafeInteger(value.version) && (value.version as number) > 0)) &&
    (value.serial === undefined || isNonNegInt(value.serial)) &&
    (value.lineage === undefined || isNonEmptyStr(value.lineage))
  );
}
