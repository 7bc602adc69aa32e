/**
 * State engine benchmark: safe save and load+validation against naive baselines measured in the same run.
 *
 *   npm run bench -- state [--sizes 100,1000,10000]
 *
 * - save: `transaction → tx.write` (lock + validation + tmp write + fsync + .backup hard link + rename + folder
 *   fsync + history copy + trim) vs `JSON.stringify` + `writeFile` of the same text (no fsync, no lock).
 * - update: `store.update` (the above plus reading and validating the current file) vs read + parse + stringify +
 *   writeFile.
 * - load: `store.load` (read + parse + schema validation) vs `readFile` + `JSON.parse`.
 * - load vs AI-HOW (issue #14 item 5), at 10,000 VMs or the largest size asked: AI-HOW's own loader, in Python, in
 *   the same run. A file in the layout AI-HOW's implementation writes (`ClusterState.to_dict`: controller,
 *   compute_nodes, worker_nodes, network_config, `json.dump(indent=2)`) is loaded by a Python script that does what
 *   its loader does (`StateFileManager.load` → `ClusterState.from_dict` → `VMInfo.from_dict`: `json.load`, the
 *   required-field and type checks, `Path`, `datetime.fromisoformat`, the `VMState` enum, dataclasses), timed inside
 *   Python (median, interpreter start-up excluded). Ours: `store.load` of that same file (conversion + validation),
 *   and of the same VMs in our own format (what `hpc status` reads). Skipped with a reason when python3 is absent.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCertainlyValidCluster } from '../main/state/fast-validate';
import { clusterStateSchema, serializeState, StateStore, type StateTarget } from '../main/state/index';
import { sampleCluster, tempDir } from '../test/support/state/samples';
import { median, report, timeMedian } from './lib';

/**
 * AI-HOW's state loader, step for step (python/ai_how/src/ai_how/state/{persistence,models}.py at 30872c7): the same
 * checks and conversions, written out here so the bench needs no AI-HOW checkout. Prints {count, samples_ms}.
 */
const AI_HOW_LOADER = `
import json, sys, time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

class VMState(Enum):
    UNDEFINED = "undefined"; RUNNING = "running"; BLOCKED = "blocked"; PAUSED = "paused"; SHUTDOWN = "shutdown"
    SHUTOFF = "shutoff"; CRASHED = "crashed"; PMSUSPENDED = "pmsuspended"; ERROR = "error"

@dataclass
class NetworkConfig:
    subnet: str
    bridge: str
    dns_mode: str = "isolated"
    dns_servers: list = field(default_factory=lambda: ["8.8.8.8", "1.1.1.1"])
    static_leases: dict = field(default_factory=dict)

@dataclass
class VMInfo:
    name: str
    domain_uuid: str
    state: VMState
    cpu_cores: int
    memory_gb: int
    volume_path: Path
    vm_type: str = "compute"
    ip_address: object = None
    gpu_assigned: bool = False
    created_at: object = None
    last_modified: object = None
    def __post_init__(self):
        if self.created_at is None: self.created_at = datetime.now()
        if self.last_modified is None: self.last_modified = datetime.now()
        if isinstance(self.volume_path, str): self.volume_path = Path(self.volume_path)

def vm_from_dict(data):
    if "disk_path" in data and "volume_path" not in data: data["volume_path"] = data.pop("disk_path")
    for name in ("name", "domain_uuid", "state", "cpu_cores", "memory_gb", "volume_path"):
        if name not in data: raise ValueError("Missing required field: " + name)
    if not isinstance(data["name"], str): raise ValueError("name")
    if not isinstance(data["domain_uuid"], str): raise ValueError("domain_uuid")
    if not isinstance(data["cpu_cores"], int): raise ValueError("cpu_cores")
    if not isinstance(data["memory_gb"], int): raise ValueError("memory_gb")
    data["volume_path"] = Path(data["volume_path"])
    if data.get("created_at"): data["created_at"] = datetime.fromisoformat(data["created_at"])
    if data.get("last_modified"): data["last_modified"] = datetime.fromisoformat(data["last_modified"])
    data["state"] = VMState(data["state"])
    return VMInfo(**data)

@dataclass
class ClusterState:
    cluster_name: str
    cluster_type: str
    controller: object = None
    compute_nodes: list = field(default_factory=list)
    worker_nodes: list = field(default_factory=list)
    network_config: object = None
    storage_pool: object = None
    config_file_path: object = None
    state_file_version: str = "2.0"
    created_at: object = None
    last_modified: object = None

def cluster_from_dict(data):
    for name in ("cluster_name", "cluster_type"):
        if name not in data: raise ValueError("Missing required field: " + name)
    if not isinstance(data["cluster_name"], str) or not isinstance(data["cluster_type"], str): raise ValueError("types")
    if data["cluster_type"] not in ["hpc", "cloud"]: raise ValueError("cluster_type")
    controller = vm_from_dict(data["controller"]) if data.get("controller") else None
    compute = [vm_from_dict(v) for v in data["compute_nodes"]] if data.get("compute_nodes") else []
    workers = [vm_from_dict(v) for v in data["worker_nodes"]] if data.get("worker_nodes") else []
    net = NetworkConfig(**data["network_config"]) if data.get("network_config") else None
    created = datetime.fromisoformat(data["created_at"]) if data.get("created_at") else None
    modified = datetime.fromisoformat(data["last_modified"]) if data.get("last_modified") else None
    return ClusterState(cluster_name=data["cluster_name"], cluster_type=data["cluster_type"], controller=controller,
        compute_nodes=compute, worker_nodes=workers, network_config=net, storage_pool=None,
        config_file_path=data.get("config_file_path"), state_file_version=data.get("state_file_version", "2.0"),
        created_at=created, last_modified=modified)

def load(path):
    if not Path(path).exists(): return None
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return cluster_from_dict(data)

path, reps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(warmup): load(path)
samples = []
for _ in range(reps):
    t0 = time.perf_counter()
    st = load(path)
    samples.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"count": (1 if st.controller else 0) + len(st.compute_nodes) + len(st.worker_nodes), "samples_ms": samples}))
`;

/** The file AI-HOW's implementation writes for `n` VMs (1 controller + n-1 compute nodes), as its `json.dump` does. */
function aiHowFile(n: number): string {
  const vm = (i: number, type: string) => ({
    name: i === 0 ? 'bench-controller' : `bench-compute-${String(i).padStart(5, '0')}`,
    domain_uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    state: i % 3 === 0 ? 'shutoff' : 'running',
    cpu_cores: 4,
    memory_gb: 16,
    volume_path: `/var/lib/libvirt/images/bench/vm-${i}.qcow2`,
    vm_type: type,
    ip_address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    gpu_assigned: false,
    created_at: '2025-10-21T09:00:00.000000',
    last_modified: '2025-10-21T09:05:00.000000',
  });
  const state = {
    cluster_name: 'bench',
    cluster_type: 'hpc',
    controller: vm(0, 'controller'),
    compute_nodes: Array.from({ length: n - 1 }, (_, i) => vm(i + 1, 'compute')),
    worker_nodes: [],
    network_config: { subnet: '10.0.0.0/8', bridge: 'virbr100', dns_mode: 'isolated', dns_servers: ['8.8.8.8', '1.1.1.1'], static_leases: {} },
    storage_pool: null,
    config_file_path: '/home/user/cluster.yaml',
    state_file_version: '2.0',
    created_at: '2025-10-21T09:00:00.000000',
    last_modified: '2025-10-21T09:05:00.000000',
  };
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** Runs AI-HOW's loader on `file`; a reason instead when python3 is missing or fails (never throws). */
function aiHowLoad(file: string, reps: number): Promise<{ count: number; samples_ms: number[] } | { skipped: string }> {
  return new Promise((resolve) => {
    execFile('python3', ['-c', AI_HOW_LOADER, file, String(reps), '2'], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) return resolve({ skipped: `python3 could not run AI-HOW's loader: ${stderr.trim().split('\n').pop() ?? err.message}` });
      try {
        resolve(JSON.parse(stdout) as { count: number; samples_ms: number[] });
      } catch {
        resolve({ skipped: `AI-HOW's loader printed no result: ${stdout.slice(0, 200)}` });
      }
    });
  });
}

function parseSizes(args: readonly string[]): number[] {
  const i = args.indexOf('--sizes');
  const raw = i >= 0 ? args[i + 1] : undefined;
  return raw
    ? raw
        .split(',')
        .map(Number)
        .filter((n) => n > 0)
    : [100, 1000, 10_000];
}

/** Entry point called by bench/run.ts. */
export async function main(args: string[]): Promise<void> {
  const { dir, cleanup } = await tempDir('clusterdesk-bench-');
  try {
    for (const n of parseSizes(args)) {
      const reps = n >= 10_000 ? 15 : n >= 1000 ? 30 : 60;
      const state = sampleCluster(n, 'bench');
      const target: StateTarget<'cluster'> = { kind: 'cluster', file: join(dir, `n${n}`, 'state.json') };
      const naiveFile = join(dir, `naive-${n}.json`);
      const store = new StateStore();
      await store.update(target, 'bench-init', () => state);

      const naiveSave = await timeMedian(() => writeFile(naiveFile, serializeState(state)), reps, 2);
      const safeSave = await timeMedian(() => store.transaction(target, 'bench-save', (tx) => tx.write(state)), reps, 2);
      const size = (await stat(target.file)).size;
      report({
        bench: 'state',
        case: `save n=${n}`,
        ms: safeSave,
        baseline: 'naive JSON.stringify + writeFile (no fsync, no lock)',
        baseline_ms: naiveSave,
        size_bytes: size,
        includes: 'lock, validation, tmp write, fsync, .backup link, rename, dir fsync, history copy, trim',
      });

      const naiveUpdate = await timeMedian(
        async () => {
          const cur = JSON.parse(await readFile(naiveFile, 'utf8')) as typeof state;
          await writeFile(naiveFile, serializeState({ ...cur, status: 'running' }));
        },
        reps,
        2,
      );
      const safeUpdate = await timeMedian(() => store.update(target, 'bench-update', (cur) => ({ ...cur!, status: 'running' })), reps, 2);
      report({
        bench: 'state',
        case: `update n=${n}`,
        ms: safeUpdate,
        baseline: 'naive readFile + JSON.parse + stringify + writeFile',
        baseline_ms: naiveUpdate,
        size_bytes: size,
      });

      const naiveLoad = await timeMedian(async () => JSON.parse(await readFile(target.file, 'utf8')) as unknown, reps, 2);
      const safeLoad = await timeMedian(() => store.load(target), reps, 2);
      const text = await readFile(target.file, 'utf8');
      const parsed = JSON.parse(text) as unknown;
      const fastMs = await timeMedian(() => isCertainlyValidCluster(parsed), reps, 2);
      const zodMs = await timeMedian(() => clusterStateSchema.parse(parsed), reps, 2);
      report({
        bench: 'state',
        case: `load n=${n}`,
        ms: safeLoad,
        baseline: 'readFile + JSON.parse (no validation)',
        baseline_ms: naiveLoad,
        size_bytes: size,
        fast_validation_ms: Math.round(fastMs * 100) / 100,
        zod_validation_ms: Math.round(zodMs * 100) / 100,
      });
    }

    // Ours against AI-HOW's loader, on the same file, in the same run.
    const n = Math.max(...parseSizes(args).filter((x) => x <= 10_000), 0) || 10_000;
    const reps = 15;
    const store = new StateStore();
    const aiFile = join(dir, `ai-how-${n}.json`);
    await writeFile(aiFile, aiHowFile(n));
    const ownTarget: StateTarget<'cluster'> = { kind: 'cluster', file: join(dir, `own-${n}`, 'state.json') };
    await store.update(ownTarget, 'bench-init', () => sampleCluster(n, 'bench'));
    const aiTarget: StateTarget<'cluster'> = { kind: 'cluster', file: aiFile };
    const check = await store.load(aiTarget);
    if (check?.vms.length !== n) throw new Error(`store.load saw ${check?.vms.length} VMs in AI-HOW's file, expected ${n}`);
    const oursAi = await timeMedian(() => store.load(aiTarget), reps, 2);
    const oursOwn = await timeMedian(() => store.load(ownTarget), reps, 2);
    const py = await aiHowLoad(aiFile, reps);
    const oursOwnAfter = await timeMedian(() => store.load(ownTarget), reps, 2);
    if ('skipped' in py) {
      process.stdout.write(`${JSON.stringify({ bench: 'state', case: `load n=${n} vs AI-HOW`, skipped: py.skipped })}\n`);
      return;
    }
    if (py.count !== n) throw new Error(`AI-HOW's loader saw ${py.count} VMs, expected ${n}`);
    const pyMs = median(py.samples_ms);
    report({
      bench: 'state',
      case: `load n=${n} vs AI-HOW`,
      ms: median([oursOwn, oursOwnAfter]),
      baseline: "AI-HOW's loader in Python (json.load + ClusterState.from_dict, timed inside Python)",
      baseline_ms: pyMs,
      ours_before_after_python_ms: [Math.round(oursOwn * 100) / 100, Math.round(oursOwnAfter * 100) / 100],
      ours_on_ai_how_file_ms: Math.round(oursAi * 100) / 100,
      ratio_on_ai_how_file: Math.round((oursAi / pyMs) * 100) / 100,
      size_bytes: (await stat(aiFile)).size,
      includes: 'ours: lstat, bounded read, JSON.parse, one-pass check (schema + depth), redaction; ms is our own format',
    });
  } finally {
    await cleanup();
  }
}
