/**
 * `start`: validate; create or adopt the network, the pool, one volume and one domain per VM; start the domains with
 * bounded parallelism. Each resource is recorded as soon as it exists, so a failed or cancelled start leaves a
 * `partial` state that names everything there is, and a re-run adopts it.
 */
import { assertNever, type TargetOutcome } from '../../preload/contract';
import { AppError, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type ClusterState } from '../state';
import type { VmPlan } from './config/plan';
import type { ClusterEnv } from './env';
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml, type OwnerMark } from './libvirt/xml';
import { conflictError, domainHolder, networkHolder, poolHolder } from './ownership';
import { mapBounded } from './parallel';
import { emptyState, networkRecordOf, patchVm, vmRecordOf, withNetwork, withPool, withVm, withVolume } from './records';
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
      ctx.progress({ target: '', step: 'check', value: 0, message: `Checking ${plan.vms.length + 2} names on ${s.host.uri}` });
      await refuseConflicts(s, plan, lineage);
      await ensureNetwork(s, plan, mark('network'));
      await ensurePool(s, plan, mark('pool'));
      const settled = await mapBounded(plan.vms, env.parallelism, ctx.signal, (vm) => startVm(s, plan, vm, mark(vm.role)));
      const outcomes: TargetOutcome[] = settled.map((r, i) => {
        const name = plan.vms[i]!.name;
        if (r.status === 'done') return { target: name, result: r.value };
        if (r.status === 'skipped') return { target: name, result: 'cancelled', message: 'not started: the operation was cancelled' };
        const error = toErrorData(r.error);
        return { target: name, result: 'failed', message: error.message, error };
      });
      s.update((st) => ({ ...st, status: deriveStatus(st.vms, plan.vms.length) }));
      await s.checkpoint();
      const failed = outcomes.filter((o) => o.result === 'failed');
      if (ctx.signal.aborted) {
        throw new AppError('cancelled', `Start was cancelled; ${s.state!.vms.length} of ${plan.vms.length} VMs are recorded (status partial).`, {
          hint: 'Start again to finish, or destroy to remove what was created.',
          details: { outcomes },
        });
      }
      if (failed.length > 0) {
        const first = failed[0]!.error!;
        throw new AppError(first.code, `${failed.length} of ${plan.vms.length} VMs could not be started (first: ${failed[0]!.target}: ${first.message})`, {
          ...(first.host ? { host: first.host } : {}),
          hint: first.hint ?? 'Fix the cause and start again: start adopts what exists and creates the rest.',
          details: { outcomes, ...(first.details ?? {}) },
        });
      }
      ctx.progress({ target: '', step: 'done', value: 1, message: `Cluster ${plan.clusterName} is ${s.state!.status}` });
      return { outcomes };
    } catch (err) {
      // Whatever happened, the state names everything created so far and says the cluster is not complete.
      s.update((st) => ({ ...st, status: st.status === 'running' ? 'running' : 'partial' }));
      await s.checkpoint().catch(() => undefined);
      throw err;
    }
  });
}

/** VMs and volumes in the config's order whatever order they finished in (VMs start in parallel); others last. */
function inPlanOrder(st: ClusterState, plan: Plan): ClusterState {
  const rank = new Map<string, number>();
  plan.vms.forEach((vm, i) => {
    rank.set(vm.name, i);
    rank.set(vm.volume, i);
  });
  const by = (a: { name: string }, b: { name: string }) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity);
  return { ...st, vms: [...st.vms].sort(by), volumes: [...st.volumes].sort(by) };
}

/** Refuses, before creating anything, when a name start would use is held by something that is not ours. */
async function refuseConflicts(s: ClusterSession, plan: Plan, lineage: string): Promise<void> {
  const cluster = plan.clusterName;
  const checks: Promise<[string, string]>[] = [
    networkHolder(s.host, plan.network.name, lineage, cluster).then((h) => [plan.network.name, h]),
    poolHolder(s.host, plan.pool.name, lineage).then((h) => [plan.pool.name, h]),
    ...plan.vms.map((vm) => domainHolder(s.host, vm.name, lineage, cluster).then((h): [string, string] => [vm.name, h])),
  ];
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
    s.ctx.progress({ target, step: 'adopt', value: 0.2, message: `Adopting network ${n.name}` });
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

async function ensurePool(s: ClusterSession, plan: Plan, owner: OwnerMark): Promise<void> {
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
    if ((await poolHolder(s.host, name, owner.lineage)) !== 'ours') throw conflictError([name], s.host.uri);
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
}

/** One VM: volume, domain, running. Returns what happened (`started`, `resumed`, `already running`). */
async function startVm(s: ClusterSession, plan: Plan, vm: VmPlan, owner: OwnerMark): Promise<string> {
  const host = s.host;
  const progress = (step: string, value: number, message: string) => s.ctx.progress({ target: vm.name, step, value, message });
  s.checkCancelled();

  let volume = await host.getVolume(plan.pool.name, vm.volume);
  if (!volume) {
    progress('volume', 0.1, `Creating volume ${vm.volume} (${vm.diskGb} GB over ${plan.baseImagePath})`);
    volume = await host.createVolume(plan.pool.name, buildVolumeXml({ name: vm.volume, capacityGb: vm.diskGb, backingPath: plan.baseImagePath }));
  }
  const volumePath = volume.path;
  s.update((st) => inPlanOrder(withVolume(st, { name: vm.volume, path: volumePath, size_gb: vm.diskGb, format: 'qcow2' }), plan));
  await s.checkpoint();
  s.checkCancelled();

  let info = await host.getDomain(vm.name);
  if (!info) {
    progress('define', 0.4, `Defining ${vm.name}`);
    await host.defineDomain(
      buildDomainXml({
        name: vm.name,
        type: host.isTestDriver ? 'test' : 'kvm',
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
  s.update((st) => inPlanOrder(withVm(st, { ...vmRecordOf(vm, volumePath, st.vms.find((v) => v.name === vm.name)), state: vmStateOf(state0) }), plan));
  await s.checkpoint();
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
        hint: 'Force it off (VM actions), then start again.',
      });
    default:
      return assertNever(state0);
  }
  const after = await host.getDomain(vm.name);
  const now = isoNow();
  s.update((st): ClusterState => patchVm(st, vm.name, { state: after ? vmStateOf(after.state) : 'UNDEFINED', last_seen: after ? now : null }));
  await s.checkpoint();
  progress('running', 1, `${vm.name} is ${after ? vmStateOf(after.state) : 'gone'}`);
  return result;
}
