/**
 * `start`: validate; create (or resume with) the network, the pool, one volume and one domain per VM; start the
 * domains with bounded parallelism. Each resource is recorded as soon as it exists (a volume's path even just before
 * it is created), so a failed or cancelled start leaves a `partial` state that names everything there is, and a
 * re-run resumes with it. Only what is proved ours is resumed (see ownership.ts); anything else carrying one of our
 * names is refused with `libvirt-conflict`. A start that fails before creating anything leaves no state behind.
 */
import { assertNever, type TargetOutcome } from '../../preload/contract';
import { actionHint, AppError } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type ClusterState } from '../state';
import { guestDomainSpec } from './config/guest';
import type { VmPlan } from './config/plan';
import type { ClusterEnv } from './env';
import { buildDomainXml, buildNetworkXml, buildPoolXml, buildVolumeXml, networkDhcpHosts, poolTargetPath, type OwnerMark } from './libvirt/xml';
import { conflictError, domainHolder, networkHolder, poolHolder, volumeRecorded } from './ownership';
import { mapSettled } from '../util';
import { emptyState, networkRecordOf, patchVm, vmRecordOf, withNetwork, withPool, withVm, withVolume, withoutVolume } from './records';
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
      const settled = await mapSettled(plan.vms, (vm) => startVm(s, plan, vm, mark(vm.role), poolDir), { concurrency: env.parallelism, signal: ctx.signal });
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

/** One VM: volume, domain, running. Returns what happened (`started`, `resumed`, `already running`). */
async function startVm(s: ClusterSession, plan: Plan, vm: VmPlan, owner: OwnerMark, poolDir: string): Promise<string> {
  const host = s.host;
  const progress = (step: string, value: number, message: string) => s.ctx.progress({ target: vm.name, step, value, message });
  s.checkCancelled();

  // A VM taken over by adoption (its domain proved by UUID) keeps the disk it was created with: no new volume.
  const adopted = adoptedDisk(s.state, vm.name);
  let volumePath: string;
  if (adopted) {
    volumePath = adopted;
  } else {
    const record = (path: string) => s.update((st) => inPlanOrder(withVolume(st, { name: vm.volume, path, size_gb: vm.diskGb, format: 'qcow2' }), plan));
    let volume = await host.getVolume(plan.pool.name, vm.volume);
    if (volume) {
      // Checked again here (the pool may have been inactive up front, or the name taken since): a volume is resumed
      // only when the state records its exact path.
      if (!volumeRecorded(volume, s.state!.volumes)) throw conflictError([`${plan.pool.name}/${vm.volume}`], host.uri);
    } else {
      // Recorded before it exists (write-ahead): a crash right after the creation leaves it recorded, hence ours.
      const expected = `${poolDir.replace(/\/+$/, '')}/${vm.volume}`;
      record(expected);
      await s.checkpoint();
      progress('volume', 0.1, `Creating volume ${vm.volume} (${vm.diskGb} GB over ${plan.baseImagePath})`);
      try {
        volume = await host.createVolume(plan.pool.name, buildVolumeXml({ name: vm.volume, capacityGb: vm.diskGb, backingPath: plan.baseImagePath }));
      } catch (err) {
        // Not created by us: the path must not stay recorded, or a volume someone else puts there would pass as ours.
        s.update((st) => withoutVolume(st, vm.volume));
        await s.checkpoint().catch(() => undefined);
        throw err;
      }
    }
    volumePath = volume.path;
    record(volumePath);
    await s.checkpoint();
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
  s.update((st) =>
    inPlanOrder(
      withVm(st, {
        ...vmRecordOf(
          vm,
          volumePath,
          st.vms.find((v) => v.name === vm.name),
        ),
        state: vmStateOf(state0),
      }),
      plan,
    ),
  );
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
  await s.checkpoint();
  progress('running', 1, `${vm.name} is ${after ? vmStateOf(after.state) : 'gone'}`);
  return result;
}
