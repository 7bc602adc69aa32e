/**
 * `start`: validate; create (or resume with) the network, the pool, one volume and one domain per VM; start the
 * domains with bounded parallelism. A failed or cancelled start leaves a `partial` state that names everything there
 * is, and a re-run resumes with it. Only what is proved ours is resumed (see ownership.ts); anything else carrying one
 * of our names is refused with `libvirt-conflict`. A start that fails before creating anything leaves no state behind.
 *
 * Checkpoints at scale (docs/state.md): the network and the pool are recorded as they are created; the VMs are not
 * written one by one. What needs to be durable first is only what carries no mark of ours — a volume's path, written
 * ahead of its creation for a window of upcoming VMs at once (`VolumeWriteAhead`). Domains carry our mark, so a crash
 * between their creation and the next checkpoint loses nothing: the next start adopts them. Everything else is
 * recorded in memory and written by paced checkpoints (at most every 250 ms) and one final checkpoint.
 */
import { assertNever, type TargetOutcome } from '../../preload/contract';
import { actionHint, AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type ClusterState, type VolumeRecord } from '../state';
import { guestDomainSpec } from './config/guest';
import type { VmPlan } from './config/plan';
import type { ClusterEnv } from './env';
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml, networkDhcpHosts, poolTargetPath, type OwnerMark } from './libvirt/xml';
import { conflictError, domainHolder, networkHolder, poolHolder, volumeRecorded } from './ownership';
import { mapSettled } from '../util';
import { emptyState, networkRecordOf, patchVm, vmRecordOf, withNetwork, withPool, withoutVolume, type ClusterVm } from './records';
import { withSession, type ClusterSession } from './session';
import { deriveStatus, vmStateOf } from './vm-state';
import { loadConfig, planOf, type ClusterWorkspace } from './workspace';

/** What an operation returns to its caller (`operate` adds the op id; the snapshot is published separately). */
export interface ClusterOpResult {
  readonly outcomes: readonly TargetOutcome[];
}

type Plan = ReturnType<typeof planOf>;

/** Starts (or resumes starting) the cluster described by the workspace's config. */
export async function startCluster(env: ClusterEnv, ws: ClusterWorkspace, ctx: OpContext): Promise<ClusterOpResult> {
  const config = await loadConfig(ws, env.processEnv);
  const plan = planOf(config);
  return withSession(env, ws, { operation: 'cluster:start', uri: config.uri, clusterName: plan.clusterName }, ctx, async (s) => {
    const prev = await s.tx.read();
    // Written first, before anything exists: the write assigns the lineage that marks everything we create.
    s.set({ ...(prev ?? emptyState(plan.clusterName)), status: 'partial' });
    await s.checkpoint();
    const lineage = s.state!.lineage!;
    const mark = (role: string): OwnerMark => ({ lineage, cluster: plan.clusterName, role });
    try {
      ctx.progress({ target: '', step: 'check', value: 0, message: `Checking ${plan.vms.length * 2 + 2} names on ${s.host.uri}` });
      await refuseConflicts(s, plan, lineage);
      await ensureNetwork(s, plan, mark('network'));
      const poolDir = await ensurePool(s, plan, mark('pool'));
      const order = new PlanOrder(plan);
      const batch = batchSize(plan.vms.length, env.parallelism);
      const ahead = await VolumeWriteAhead.create(s, plan, order, poolDir, batch);
      const batches = new BatchCheckpoints(s, ahead, batch);
      let settled;
      try {
        settled = await mapSettled(plan.vms, (vm, i) => startVm(s, plan, order, ahead, batches, vm, i, mark(vm.role)), {
          concurrency: env.parallelism,
          signal: ctx.signal,
        });
      } finally {
        // Paths written ahead for volumes that were never created (cancelled, failed, not reached) are not ours to keep.
        ahead.release();
      }
      const outcomes: TargetOutcome[] = settled.map((r, i) => {
        const name = plan.vms[i]!.name;
        if (r.ok) return { target: name, result: r.value };
        if (r.skipped) return { target: name, result: 'cancelled', message: 'not started: the operation was cancelled' };
        const error = r.error;
        return { target: name, result: 'failed', message: error.message, error };
      });
      s.update((st) => ({ ...st, status: deriveStatus(st.vms, plan.vms.length) }));
      await s.checkpoint();
      const failed = outcomes.filter((o) => o.result === 'failed');
      if (ctx.signal.aborted) {
        throw new AppError('cancelled', `Start was cancelled; ${s.state!.vms.length} of ${plan.vms.length} VMs are recorded (status partial).`, {
          hint: actionHint({
            cli: 'Run `clusterdesk hpc start` again to finish, or `clusterdesk hpc destroy --force` to remove what was created.',
            ui: 'Click Start again to finish, or Destroy to remove what was created.',
          }),
          details: { outcomes },
        });
      }
      if (failed.length > 0) {
        const first = failed[0]!.error!;
        throw new AppError(first.code, `${failed.length} of ${plan.vms.length} VMs could not be started (first: ${failed[0]!.target}: ${first.message})`, {
          ...(first.host ? { host: first.host } : {}),
          hint:
            first.hint ??
            actionHint({
              cli: 'Fix the cause and run `clusterdesk hpc start` again: it resumes with what it recorded and creates the rest.',
              ui: 'Fix the cause and click Start again: it resumes with what it recorded and creates the rest.',
            }),
          details: { outcomes, ...(first.details ?? {}) },
        });
      }
      ctx.progress({ target: '', step: 'done', value: 1, message: `Cluster ${plan.clusterName} is ${s.state!.status}` });
      return { outcomes };
    } catch (err) {
      const st = s.state!;
      if (!prev && st.vms.length === 0 && st.volumes.length === 0 && st.networks.length === 0 && (st.pools ?? []).length === 0) {
        // Nothing was created: leave no `partial` state behind (the generation written above stays in history, so a
        // later start keeps the same lineage).
        await s.discard().catch(() => undefined);
        throw err;
      }
      // Whatever happened, the state names everything created so far and says the cluster is not complete.
      s.update((x) => ({ ...x, status: x.status === 'running' ? 'running' : 'partial' }));
      await s.checkpoint().catch(() => undefined);
      throw err;
    }
  });
}

/** The disk of a VM record taken over by adoption (`adopted: "domain_uuid"`), or null. */
function adoptedDisk(state: ClusterState | null, name: string): string | null {
  const rec = state?.vms.find((v) => v.name === name) as (Record<string, unknown> & { volumes: string[] }) | undefined;
  if (!rec || rec.adopted !== 'domain_uuid') return null;
  const path = typeof rec.volume_path === 'string' && rec.volume_path ? rec.volume_path : rec.volumes[0];
  return path ?? null;
}

/**
 * Keeps VMs and volumes in the config's order whatever order they finish in (VMs start in parallel; others last):
 * each record is put in its place (a binary search), not the whole list sorted per record.
 */
class PlanOrder {
  private readonly rank = new Map<string, number>();
  constructor(plan: Plan) {
    plan.vms.forEach((vm, i) => {
      this.rank.set(vm.name, i);
      this.rank.set(vm.volume, i);
    });
  }

  private rankOf(name: string): number {
    return this.rank.get(name) ?? Infinity;
  }

  /** `list` with `items` put in place (replacing records of the same name); the input list is not changed. */
  place<T extends { readonly name: string }>(list: readonly T[], items: readonly T[]): T[] {
    const out = [...list];
    for (const item of items) {
      const at = out.findIndex((x) => x.name === item.name);
      if (at >= 0) {
        out[at] = item;
        continue;
      }
      const r = this.rankOf(item.name);
      let lo = 0;
      let hi = out.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.rankOf(out[mid]!.name) <= r) lo = mid + 1;
        else hi = mid;
      }
      out.splice(lo, 0, item);
    }
    return out;
  }

  withVm(st: ClusterState, vm: ClusterVm): ClusterState {
    return { ...st, vms: this.place(st.vms, [vm]) };
  }

  withVolumes(st: ClusterState, volumes: readonly VolumeRecord[]): ClusterState {
    return volumes.length === 0 ? st : { ...st, volumes: this.place(st.volumes, volumes) };
  }
}

/** VMs per batch: what one checkpoint records (and how many volume paths it writes ahead). */
export function batchSize(vms: number, parallelism: number): number {
  return Math.max(2 * parallelism, Math.ceil(vms / 25));
}

/** The longest a VM's progress waits for a checkpoint when its batch is slow to fill (a real host). */
const BATCH_MAX_DELAY_MS = 2000;

/**
 * Write-ahead of volume paths, a batch at a time. libvirt keeps no mark on a volume, so a volume is ours only if the
 * state recorded its exact path before it was created (ownership.ts). Recording each path in its own generation
 * made a 1,000-VM start write ~1,000 generations; here the paths of upcoming VMs are recorded a batch at a time, one
 * to two batches ahead of the VMs being worked on, so the batch checkpoints make them durable before the workers get
 * there (a worker that does get there first forces a checkpoint). Only volumes absent when the pool was listed are
 * written ahead; one that appears meanwhile is refused.
 */
class VolumeWriteAhead {
  /** VMs [0, durable) have their paths on disk; [0, recorded) in memory. */
  private durable = 0;
  private recorded = 0;
  /** Volume name → path written ahead in this run and not created (yet). */
  private readonly unconfirmed = new Map<string, string>();

  private constructor(
    private readonly s: ClusterSession,
    private readonly plan: Plan,
    private readonly order: PlanOrder,
    private readonly poolDir: string,
    private readonly batch: number,
    private readonly absent: ReadonlySet<string>,
  ) {}

  static async create(s: ClusterSession, plan: Plan, order: PlanOrder, poolDir: string, batch: number): Promise<VolumeWriteAhead> {
    const existing = new Set(await s.host.volumeNames(plan.pool.name));
    const absent = new Set(plan.vms.filter((vm) => !existing.has(vm.volume) && !adoptedDisk(s.state, vm.name)).map((vm) => vm.volume));
    const ahead = new VolumeWriteAhead(s, plan, order, poolDir, batch, absent);
    // The first batches go out with the checkpoint that follows (the caller's next one).
    ahead.recordUpTo(Math.min(plan.vms.length, 2 * batch));
    return ahead;
  }

  expectedPath(vm: VmPlan): string {
    return `${this.poolDir.replace(/\/+$/, '')}/${vm.volume}`;
  }

  /** Records (in memory) the paths of VMs [recorded, to) whose volume is to be created. */
  private recordUpTo(to: number): void {
    const add: VolumeRecord[] = [];
    for (let i = this.recorded; i < to; i++) {
      const vm = this.plan.vms[i]!;
      if (!this.absent.has(vm.volume)) continue;
      const path = this.expectedPath(vm);
      this.unconfirmed.set(vm.volume, path);
      add.push({ name: vm.volume, path, size_gb: vm.diskGb, format: 'qcow2' });
    }
    this.recorded = Math.max(this.recorded, to);
    if (add.length > 0) this.s.update((st) => this.order.withVolumes(st, add));
  }

  /** Everything recorded so far is in the state as of now: durable once a checkpoint begun after this has ended. */
  private durableAfter(checkpoint: Promise<void>): Promise<void> {
    const to = this.recorded;
    return checkpoint.then(() => {
      this.durable = Math.max(this.durable, to);
    });
  }

  /** Called as VM `i` begins: keeps the next batches recorded ahead; resolves once VM `i`'s own path is durable. */
  async cover(i: number): Promise<void> {
    const n = this.plan.vms.length;
    if (this.recorded < n && i + this.batch >= this.recorded) {
      this.recordUpTo(Math.min(n, this.recorded + this.batch));
      // Left to the batch checkpoints (paced); only noted here, so that a later `cover` knows what is durable.
      void this.durableAfter(this.s.checkpointSoon(BATCH_MAX_DELAY_MS)).catch(() => undefined);
    }
    if (i < this.durable || !this.absent.has(this.plan.vms[i]!.volume)) return;
    await this.durableAfter(this.s.checkpoint());
  }

  /** A checkpoint was asked for by someone else: note what it makes durable. */
  noteCheckpoint(checkpoint: Promise<void>): void {
    void this.durableAfter(checkpoint).catch(() => undefined);
  }

  /** Was `volume`'s path written ahead in this run, for a volume not created yet? */
  pending(volume: string): boolean {
    return this.unconfirmed.has(volume);
  }

  /** The volume was created: its record stays. */
  confirm(volume: string): void {
    this.unconfirmed.delete(volume);
  }

  /** The volume will not be created by us (failed, refused): its record goes (written at the next checkpoint). */
  drop(volume: string): void {
    if (!this.unconfirmed.delete(volume)) return;
    this.s.update((st) => withoutVolume(st, volume));
  }

  /** Drops every path still unconfirmed (the run is over). */
  release(): void {
    if (this.unconfirmed.size === 0) return;
    const gone = new Set(this.unconfirmed.keys());
    this.unconfirmed.clear();
    if (this.s.state) this.s.update((st) => ({ ...st, volumes: st.volumes.filter((v) => !gone.has(v.name)) }));
  }
}

/** Refuses, before creating anything, when a name start would use is held by something that is not ours. */
async function refuseConflicts(s: ClusterSession, plan: Plan, lineage: string): Promise<void> {
  const cluster = plan.clusterName;
  const checks: Promise<[string, string]>[] = [
    networkHolder(s.host, plan.network.name, lineage, cluster).then((h) => [plan.network.name, h]),
    poolHolder(s.host, plan.pool.name, lineage, s.state?.pools).then((h) => [plan.pool.name, h]),
    ...plan.vms.map((vm) => domainHolder(s.host, vm.name, lineage, cluster).then((h): [string, string] => [vm.name, h])),
  ];
  // Volumes can only be listed in an active pool; an inactive one is checked again by each VM before it is used.
  const pool = await s.host.getPool(plan.pool.name);
  if (pool?.active && (await poolHolder(s.host, plan.pool.name, lineage, s.state?.pools)) === 'ours') {
    const recorded = s.state?.volumes ?? [];
    const existing = new Map((await s.host.listVolumes(plan.pool.name)).map((v) => [v.name, v]));
    for (const vm of plan.vms) {
      const v = existing.get(vm.volume);
      if (v && !volumeRecorded(v, recorded)) checks.push(Promise.resolve([`${plan.pool.name}/${vm.volume}`, 'foreign']));
    }
  }
  const foreign = (await Promise.all(checks)).filter(([, h]) => h === 'foreign').map(([n]) => n);
  if (foreign.length > 0) throw conflictError(foreign, s.host.uri);
}

async function ensureNetwork(s: ClusterSession, plan: Plan, owner: OwnerMark): Promise<void> {
  s.checkCancelled();
  const n = plan.network;
  const target = n.name;
  let info = await s.host.getNetwork(n.name);
  if (!info) {
    s.ctx.progress({ target, step: 'define', value: 0.2, message: `Defining ${plan.networkMode} network ${n.name} (${n.subnet})` });
    const hosts = plan.vms.map((vm) => ({ mac: vm.mac, ip: vm.address, name: vm.name }));
    await s.host.defineNetwork(
      buildNetworkXml({
        name: n.name,
        bridge: n.bridge,
        gateway: n.gateway,
        netmask: n.netmask,
        dhcpStart: n.dhcpStart,
        dhcpEnd: n.dhcpEnd,
        hosts,
        owner,
        mode: plan.networkMode,
      }),
    );
    info = { name: n.name, active: false, persistent: true };
  } else {
    if ((await networkHolder(s.host, n.name, owner.lineage, plan.clusterName)) !== 'ours') throw conflictError([n.name], s.host.uri);
    s.ctx.progress({ target, step: 'resume', value: 0.2, message: `Using network ${n.name}` });
    // VMs added to the config since the network was defined get their reservation in the existing network.
    const reserved = networkDhcpHosts(await s.host.networkXml(n.name));
    for (const vm of plan.vms) {
      const mac = vm.mac.toLowerCase();
      if (reserved.some((h) => h.mac === mac)) continue;
      const taken = reserved.find((h) => h.ip === vm.address);
      if (taken) {
        throw new AppError('libvirt-conflict', `${vm.address} (for ${vm.name}) is already reserved for ${taken.name || taken.mac} in network ${n.name}.`, {
          host: s.host.uri,
          hint: 'Give the new node another address in the config, then start again.',
        });
      }
      s.ctx.progress({ target: vm.name, step: 'dhcp', value: 0.05, message: `Reserving ${vm.address} for ${vm.name} in ${n.name}` });
      await s.host.addDhcpHost(n.name, { mac: vm.mac, ip: vm.address, name: vm.name });
    }
  }
  s.update((st) => withNetwork(st, networkRecordOf(plan)));
  await s.checkpoint();
  if (!info.active) {
    s.checkCancelled();
    await s.host.startNetwork(n.name);
    await s.checkpoint();
  }
  s.ctx.progress({ target, step: 'ready', value: 1, message: `Network ${n.name} is active` });
}

/** Defines (or resumes with) the pool; returns its target directory. */
async function ensurePool(s: ClusterSession, plan: Plan, owner: OwnerMark): Promise<string> {
  s.checkCancelled();
  const name = plan.pool.name;
  let info = await s.host.getPool(name);
  if (!info) {
    s.ctx.progress({ target: name, step: 'define', value: 0.2, message: `Defining storage pool ${name} at ${plan.poolPath}` });
    await s.host.definePool(buildPoolXml({ name, path: plan.poolPath, owner }));
    info = { name, active: false };
    s.update((st) => withPool(st, { name, path: plan.poolPath }));
    await s.checkpoint();
    await s.host.buildPool(name);
  } else {
    if ((await poolHolder(s.host, name, owner.lineage, s.state!.pools)) !== 'ours') throw conflictError([name], s.host.uri);
    s.ctx.progress({ target: name, step: 'adopt', value: 0.2, message: `Adopting storage pool ${name}` });
    s.update((st) => withPool(st, { name, path: plan.poolPath }));
    await s.checkpoint();
  }
  if (!info.active) {
    s.checkCancelled();
    await s.host.startPool(name);
    await s.checkpoint();
  }
  s.ctx.progress({ target: name, step: 'ready', value: 1, message: `Storage pool ${name} is active` });
  return poolTargetPath(await s.host.poolXml(name)) ?? plan.poolPath;
}

/**
 * Checkpoints per batch: one when a batch's worth of VM records has accumulated (paced: at most every 250 ms), and
 * none later than `BATCH_MAX_DELAY_MS` after a record (a slow host fills its batches slowly).
 */
class BatchCheckpoints {
  private count = 0;
  constructor(
    private readonly s: ClusterSession,
    private readonly ahead: VolumeWriteAhead,
    private readonly size: number,
  ) {}

  /** A VM record changed (defined, started). Each VM counts twice, so a batch is `size` VMs' two records. */
  recorded(): void {
    this.count++;
    if (this.count >= 2 * this.size) {
      this.count = 0;
      this.ahead.noteCheckpoint(this.s.checkpointSoon());
    } else {
      this.ahead.noteCheckpoint(this.s.checkpointSoon(BATCH_MAX_DELAY_MS));
    }
  }
}

/** One VM: volume, domain, running. Returns what happened (`started`, `resumed`, `already running`). */
async function startVm(
  s: ClusterSession,
  plan: Plan,
  order: PlanOrder,
  ahead: VolumeWriteAhead,
  batches: BatchCheckpoints,
  vm: VmPlan,
  index: number,
  owner: OwnerMark,
): Promise<string> {
  const host = s.host;
  const progress = (step: string, value: number, message: string) => s.ctx.progress({ target: vm.name, step, value, message });
  s.checkCancelled();

  // A VM taken over by adoption (its domain proved by UUID) keeps the disk it was created with: no new volume.
  const adopted = adoptedDisk(s.state, vm.name);
  let volumePath: string;
  if (adopted) {
    volumePath = adopted;
  } else {
    const record = (path: string) => s.update((st) => order.withVolumes(st, [{ name: vm.volume, path, size_gb: vm.diskGb, format: 'qcow2' }]));
    await ahead.cover(index);
    s.checkCancelled();
    let volume = await host.getVolume(plan.pool.name, vm.volume);
    if (volume) {
      // Checked again here (the pool may have been inactive up front, or the name taken since): a volume is resumed
      // only when the state recorded its exact path before this run wrote it ahead.
      if (ahead.pending(vm.volume) || !volumeRecorded(volume, s.state!.volumes)) {
        ahead.drop(vm.volume);
        throw conflictError([`${plan.pool.name}/${vm.volume}`], host.uri);
      }
    } else {
      if (!ahead.pending(vm.volume) && !s.state!.volumes.some((v) => v.name === vm.volume && v.path === ahead.expectedPath(vm))) {
        // Not written ahead (it existed when the pool was listed and is gone since): write it ahead now, on its own.
        record(ahead.expectedPath(vm));
        await s.checkpoint();
      }
      progress('volume', 0.1, `Creating volume ${vm.volume} (${vm.diskGb} GB over ${plan.baseImagePath})`);
      try {
        volume = await host.createVolume(plan.pool.name, buildVolumeXml({ name: vm.volume, capacityGb: vm.diskGb, backingPath: plan.baseImagePath }));
      } catch (err) {
        // Not created by us: the path must not stay recorded, or a volume someone else puts there would pass as ours.
        ahead.drop(vm.volume);
        if (s.state!.volumes.some((v) => v.name === vm.volume)) s.update((st) => withoutVolume(st, vm.volume));
        await s.checkpoint().catch(() => undefined);
        throw err;
      }
      ahead.confirm(vm.volume);
    }
    volumePath = volume.path;
    if (!s.state!.volumes.some((v) => v.name === vm.volume && v.path === volumePath)) {
      record(volumePath);
      // A path other than the one written ahead: durable before anything uses it.
      await s.checkpoint();
    }
  }
  s.checkCancelled();

  let info = await host.getDomain(vm.name);
  if (!info) {
    progress('define', 0.4, `Defining ${vm.name}`);
    await host.defineDomain(
      buildDomainXml({
        name: vm.name,
        ...guestDomainSpec(plan.guest, vm.name, host.isTestDriver),
        vcpus: vm.vcpus,
        memoryKiB: vm.memoryKiB,
        description: `${plan.clusterName} ${vm.role} (Clusterdesk)`,
        diskPath: volumePath,
        network: { name: plan.network.name, mac: vm.mac },
        pciDevices: vm.pciDevices,
        owner,
      }),
    );
    await host.setDomainAutostart(vm.name, vm.autoStart);
    info = await host.getDomain(vm.name);
    if (!info) throw new AppError('libvirt-error', `${vm.name} vanished right after it was defined.`, { host: host.uri });
  } else {
    // Checked again here: the name may have been taken since the up-front check (another tool, another user).
    if ((await domainHolder(host, vm.name, owner.lineage, plan.clusterName)) !== 'ours') throw conflictError([vm.name], host.uri);
    progress('adopt', 0.4, `Adopting ${vm.name} (${vmStateOf(info.state)})`);
  }
  const state0 = info.state;
  // The domain carries our mark: a crash before the next checkpoint loses nothing (the next start adopts it).
  s.update((st) =>
    order.withVm(st, {
      ...vmRecordOf(
        vm,
        volumePath,
        st.vms.find((v) => v.name === vm.name),
      ),
      state: vmStateOf(state0),
    }),
  );
  batches.recorded();
  s.checkCancelled();

  let result: string;
  switch (state0) {
    case 'RUNNING':
    case 'BLOCKED':
      result = 'already running';
      break;
    case 'PAUSED':
      progress('resume', 0.7, `Resuming ${vm.name}`);
      await host.resumeDomain(vm.name);
      result = 'resumed';
      break;
    case 'SHUTOFF':
    case 'CRASHED':
    case 'NOSTATE':
      progress('start', 0.7, `Starting ${vm.name}`);
      await host.startDomain(vm.name);
      result = 'started';
      break;
    case 'SHUTDOWN':
    case 'PMSUSPENDED':
      throw new AppError('state-wrong-status', `${vm.name} is ${vmStateOf(state0)}; start cannot take it to RUNNING.`, {
        hint: actionHint({
          cli: 'Run `clusterdesk hpc stop` (it forces off what does not shut down), then `clusterdesk hpc start` again.',
          ui: 'Click Force off in its VM actions, then click Start again.',
        }),
      });
    default:
      return assertNever(state0);
  }
  const after = await host.getDomain(vm.name);
  const now = isoNow();
  s.update((st): ClusterState => patchVm(st, vm.name, { state: after ? vmStateOf(after.state) : 'UNDEFINED', last_seen: after ? now : null }));
  batches.recorded();
  progress('running', 1, `${vm.name} is ${after ? vmStateOf(after.state) : 'gone'}`);
  return result;
}
