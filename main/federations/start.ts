/**
 * Federation start (docs/architecture.md, Federations): provision the kits, then per machine (bounded, in parallel)
 * a fresh temp folder, the upload, a detached launch, and the record written at once.
 */
import { posix } from 'node:path';
import type { ErrorData, FederationStatus, TargetOutcome } from '../../preload/contract';
import { AppError, throwIfCancelled, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import { isoNow, type FederationState, type MachineRecord, type StateTx } from '../state';
import type { FederationMachine } from './config/federation-config';
import { closeAll, failed, isHostKeyError, loadConfig, machineFor, machinesOf, settingsOf, withStateLock, wrongStatus } from './env';
import type { FederationEnv, FederationResult, FederationWorkspace } from './env';
import { prepareKits } from './kits/provision';
import { mapSettled } from '../util';
import { type Machine, type UploadProgress } from './machines/index';
import { tmpPrefixFor } from './paths';
import { LAUNCHED_SCRIPT, scriptArgv } from './scripts';
import { KIT_LOG, removeStateFolder } from './common';
import { formatBytes } from '../files/regular-file';

const START_SCRIPT = 'startup/start.sh';

interface Deployed {
  readonly outcome: TargetOutcome;
  /** The record written for this machine (launched, or a folder we created and could not remove). */
  readonly record: MachineRecord | null;
  readonly launched: boolean;
}

/**
 * Starts a federation: provisions the kits, then for every machine in parallel (bounded) creates a fresh temp folder,
 * uploads the participant's kit, launches `startup/start.sh` detached (output to the kit's log) and records the
 * machine at once. Refuses when running (or dirty with machines to clean). Fails — recording nothing — when a host key
 * is unknown or changed, and when no machine could be started; otherwise the failures are outcomes.
 */
export async function startFederation(env: FederationEnv, ws: FederationWorkspace, ctx: OpContext): Promise<FederationResult> {
  const s = settingsOf(env);
  return withStateLock(env, ws, 'start', ctx, async (tx) => {
    const current = await tx.read();
    if (current?.type === 'running') {
      throw wrongStatus(ws.statePath, 'The federation is already running.', 'Stop it first (then clean), or probe it to see how it is doing.');
    }
    if (current?.type === 'dirty' && machinesOf(current).length > 0) {
      throw wrongStatus(
        ws.statePath,
        `The federation is dirty: ${machinesOf(current).length} machine(s) still hold temp folders from the last run.`,
        'Clean first, so those folders are not forgotten.',
      );
    }
    ctx.progress({ target: '', step: 'config', message: 'Reading refedez.yaml and project.yml' });
    const config = await loadConfig(env, ws);
    ctx.progress({ target: '', step: 'provision', message: 'Preparing the startup kits' });
    const kits = await prepareKits(config, { signal: ctx.signal, ...(env.nvflare !== undefined ? { nvflare: env.nvflare } : {}) });
    throwIfCancelled(ctx.signal);

    const machines = new Map<string, Machine>(config.machines.map((m) => [m.name, machineFor(env, ws, m.target)]));
    try {
      // The initial running state (which fixes the lineage the temp folders are named after) is written while the
      // connections open.
      const firstWrite = tx.write({ type: 'running', data: { deployed_files_path: kits.root, machines: [] } });
      firstWrite.catch(() => undefined);
      // Connect everywhere first: a host key that needs the user's decision stops the start before anything is
      // deployed (the UI asks, trusts, retries); the connections are reused for the deployment.
      const reach = await mapSettled(
        config.machines,
        async (m, _i, signal) => {
          ctx.progress({ target: m.name, step: 'connect', value: 0, message: `Connecting to ${describe(m)}` });
          await machines.get(m.name)!.connect({ signal });
        },
        { concurrency: s.parallelism, signal: ctx.signal },
      );
      const first = await firstWrite;
      const keyProblem = reach.find((r): r is { ok: false; error: ErrorData } => !r.ok && isHostKeyError(r.error));
      if (ctx.signal.aborted || keyProblem) {
        // Nothing was deployed: back to where we were.
        await settleNothingRunning(tx, current, []);
        throwIfCancelled(ctx.signal);
        throw AppError.fromData(keyProblem!.error);
      }
      const prefix = tmpPrefixFor(first.lineage);
      // Machine index (config order) → record; the state lists machines in config order, whatever order they launch in.
      const slots = new Map<number, MachineRecord>();
      const recorded = () => [...slots.entries()].sort((a, b) => a[0] - b[0]).map(([, rec]) => rec);
      let writes: Promise<unknown> = Promise.resolve();
      // Writes are serialized under the held lock; each carries every machine recorded so far.
      const record = (index: number, rec: MachineRecord): Promise<void> => {
        const next = writes
          .catch(() => undefined)
          .then(async () => {
            slots.set(index, rec);
            await tx.write({ type: 'running', data: { deployed_files_path: kits.root, machines: recorded() } });
          });
        writes = next;
        return next;
      };

      const results = await mapSettled(
        config.machines,
        async (m, i): Promise<Deployed> => {
          const r = reach[i]!;
          if (!r.ok) {
            ctx.progress({ target: m.name, step: 'failed', value: null, message: r.error.message, level: 'error' });
            return { outcome: failed(m.name, 'failed', r.error), record: null, launched: false };
          }
          return deployOne(env, ctx, m, machines.get(m.name)!, kits.kits.get(m.name)!, prefix, (rec) => record(i, rec));
        },
        // Not ctx.signal: every machine must come back with its outcome (cancellation is handled inside).
        { concurrency: s.parallelism },
      );
      await writes.catch(() => undefined);

      const outcomes = results.map((r, i) => (r.ok ? r.value.outcome : failed(config.machines[i]!.name, 'failed', r.error)));
      const launched = results.filter((r) => r.ok && r.value.launched).length;
      let status: FederationStatus = 'running';
      if (launched === 0) status = await settleNothingRunning(tx, current, recorded());
      if (ctx.signal.aborted) {
        throw new AppError('cancelled', `Start was cancelled: ${launched} of ${config.machines.length} machine(s) started and recorded.`, {
          hint: launched > 0 ? 'Stop and clean the federation, or start the rest after cleaning.' : 'Nothing runs.',
          details: { outcomes, status },
        });
      }
      if (launched === 0) {
        const worst = outcomes.find((o) => o.error && o.error.code !== 'cancelled')?.error ?? outcomes[0]?.error;
        throw new AppError(worst?.code ?? 'internal', `No machine could be started. ${worst?.message ?? ''}`.trim(), {
          ...(worst?.host ? { host: worst.host } : {}),
          hint: worst?.hint ?? 'See the per-machine outcomes in the details.',
          details: { ...(worst?.details ?? {}), outcomes, status },
        });
      }
      return { outcomes, status };
    } finally {
      await closeAll(machines.values());
    }
  });
}

/** After a start in which nothing launched: leftovers we created → dirty; nothing at all → back to clean. */
async function settleNothingRunning(tx: StateTx<'federation'>, before: FederationState | null, recorded: readonly MachineRecord[]): Promise<FederationStatus> {
  if (recorded.length > 0) {
    await tx.write({ type: 'dirty', data: { machines: [...recorded] } });
    return 'dirty';
  }
  await removeStateFolder(tx, before);
  return 'clean';
}

/** Uploads, launches and records one machine. Never throws: failures come back as the outcome. */
async function deployOne(
  env: FederationEnv,
  ctx: OpContext,
  m: FederationMachine,
  machine: Machine,
  kit: string,
  prefix: string,
  record: (rec: MachineRecord) => Promise<void>,
): Promise<Deployed> {
  const s = settingsOf(env);
  const step = (stepName: string, message: string, value: number | null = null, level: 'info' | 'warn' | 'error' = 'info') =>
    ctx.progress({ target: m.name, step: stepName, value, message, level });
  const recordOf = (dir: string, startedAt: string | null, pid: number | null): MachineRecord => ({
    name: m.name,
    kind: m.kind,
    host: machine.host,
    port: machine.port,
    user: machine.user,
    tmp_dir: dir,
    started_at: startedAt,
    pid,
  });

  let dir: string;
  try {
    throwIfCancelled(ctx.signal);
    // Not cancellable: once mktemp ran we must learn the folder's name, or we could never remove it.
    dir = await machine.mkTempDir(prefix, { timeoutMs: s.commandTimeoutMs });
  } catch (err) {
    const error = toErrorData(err);
    step('failed', error.message, null, 'error');
    return { outcome: failed(m.name, 'failed', error), record: null, launched: false };
  }

  let phase: 'upload' | 'launch' = 'upload';
  try {
    step('upload', `Uploading the kit to ${dir}`, 0);
    const stats = await machine.upload(kit, dir, { signal: ctx.signal, onProgress: throttle((p) => step('upload', uploadMessage(p), fraction(p))) });
    throwIfCancelled(ctx.signal);
    phase = 'launch';
    step('launch', `Launching ${START_SCRIPT}`, 1);
    // Not cancellable and bounded: the launch either happened or not, and we must know which before we return.
    await machine.launchDetached([posix.join(dir, START_SCRIPT)], {
      cwd: dir,
      logFile: posix.join(dir, KIT_LOG),
      timeoutMs: s.commandTimeoutMs,
    });
    // FLARE's start.sh returns at once; the kit counts as launched once its supervisor wrote its PID (recorded: the
    // launcher's own PID would be meaningless). A kit that writes no pid file is still recorded, without a PID.
    const up = await machine.exec(scriptArgv(LAUNCHED_SCRIPT, dir), { timeoutMs: s.commandTimeoutMs }).catch(() => null);
    const pidText = up?.code === 0 ? up.stdout.trim() : '';
    const pid = /^\d+$/.test(pidText) && Number(pidText) > 1 ? Number(pidText) : null;
    if (pid === null) step('launch', 'The kit wrote no pid file yet; recorded without a PID.', 1, 'warn');
    const rec = recordOf(dir, isoNow(), pid);
    try {
      await record(rec);
    } catch (err) {
      const error = toErrorData(err);
      step('failed', `Launched, but could not be recorded: ${error.message}`, null, 'error');
      return {
        outcome: failed(m.name, 'failed', { ...error, message: `Launched in ${dir}, but the state could not be written: ${error.message}` }),
        record: null,
        launched: true,
      };
    }
    step('started', `Running in ${dir} (${stats.files} files, ${formatBytes(stats.bytes)})`, 1);
    return { outcome: { target: m.name, result: 'started', message: `Running in ${dir}` }, record: rec, launched: true };
  } catch (err) {
    const error = toErrorData(err);
    // A launch that timed out or lost its connection may have started the kit: keep its folder recorded so stop and
    // clean can reach it. Otherwise nothing runs there and the folder we created is removed now.
    const maybeRunning = phase === 'launch' && error.code !== 'ssh-command';
    let leftover = maybeRunning;
    if (!maybeRunning) {
      try {
        await machine.removeDir(dir, { timeoutMs: s.connectTimeoutMs });
      } catch {
        leftover = true;
      }
    }
    let rec: MachineRecord | null = null;
    if (leftover) {
      rec = recordOf(dir, null, null);
      await record(rec).catch(() => undefined);
    }
    const note = leftover ? ` Its temp folder ${dir} is recorded for clean.` : '';
    step('failed', `${error.message}${note}`, null, 'error');
    return { outcome: failed(m.name, 'failed', { ...error, message: `${error.message}${note}` }), record: rec, launched: false };
  }
}

function describe(m: FederationMachine): string {
  if (m.target.kind === 'local') return 'this computer';
  const { user, host, port } = m.target.ssh;
  return `${user}@${host}${port === 22 ? '' : `:${port}`}`;
}

function fraction(p: UploadProgress): number {
  return p.totalBytes > 0 ? p.bytes / p.totalBytes : p.totalFiles > 0 ? p.files / p.totalFiles : 1;
}

function uploadMessage(p: UploadProgress): string {
  return `Uploading: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`;
}

/** At most one upload progress event per 100 ms per machine, plus the last one. */
function throttle(fn: (p: UploadProgress) => void): (p: UploadProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last >= 100 || p.files === p.totalFiles) {
      last = now;
      fn(p);
    }
  };
}
