/**
 * The federation lifecycle over SSH (docs/architecture.md, Federations): start, stop, clean — clean → running → dirty → clean.
 *
 * Each function takes the environment, an explicit workspace and an `OpContext`, holds the state lock for its whole
 * run, and records every change as it happens (a machine right after it launched, the dirty state after stop, each
 * removed folder before the state folder goes). Per-machine failures are outcomes, not exceptions, except where
 * noted: nothing runs → start fails; a host-key decision is needed → start and clean fail before changing anything;
 * a recorded folder fails the path checks → clean fails before deleting anything.
 */
import { posix } from 'node:path';
import type { ErrorData, FederationStatus, TargetOutcome } from '../../preload/contract';
import { AppError, isAppError, throwIfCancelled, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import { sleepOrCancel } from '../util';
import { isoNow, type FederationState, type MachineRecord, type StateTx } from '../state';
import type { FederationMachine } from './config/federation-config';
import {
  closeAll,
  failed,
  isHostKeyError,
  loadConfig,
  loadConfigLenient,
  machineFor,
  machinesOf,
  markOrigin,
  originOf,
  settingsOf,
  targetOfRecord,
  withStateLock,
  wrongStatus,
  type FederationEnv,
  type FederationResult,
  type FederationWorkspace,
} from './env';
import { prepareKits } from './kits/provision';
import { bounded } from './machines/guards';
import { mapSettled } from '../util';
import { type Machine, type UploadProgress } from './machines/index';
import { realDirRefusal, stopDirRefusal, tmpDirRefusal, tmpPrefixFor } from './paths';
import { CHECK_SCRIPT, LAUNCHED_SCRIPT, scriptArgv, SETTLE_SCRIPT, STOP_SCRIPT } from './scripts';

/** Per-machine results, as the CLI and the UI show them. */
export const START_RESULTS = ['started', 'failed'] as const;
export const STOP_RESULTS = ['signalled', 'already stopped', 'unreachable', 'failed', 'refused'] as const;
export const CLEAN_RESULTS = ['removed', 'already gone', 'still running', 'unreachable', 'already clean'] as const;
export type StartResult = (typeof START_RESULTS)[number];
export type StopResult = (typeof STOP_RESULTS)[number];
export type CleanResult = (typeof CLEAN_RESULTS)[number];

/** The kit's log, relative to its folder (FLARE's start.sh and ours write `log.txt` there). */
export const KIT_LOG = 'log.txt';
/** The file whose presence makes a FLARE participant shut down. */
export const SHUTDOWN_FILE = 'shutdown.fl';
const START_SCRIPT = 'startup/start.sh';

// ---------------------------------------------------------------------------------------------------------------
// start

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

// ---------------------------------------------------------------------------------------------------------------
// stop

/**
 * Stops a running federation: touches `<tmp_dir>/shutdown.fl` on every machine in parallel, each machine bounded by
 * the connect timeout; the state becomes dirty even when some machines were unreachable (they stay listed for clean).
 * From dirty or clean it answers "already stopped" and changes nothing. Cancelling leaves the state running (stop
 * again is safe).
 */
export async function stopFederation(env: FederationEnv, ws: FederationWorkspace, ctx: OpContext): Promise<FederationResult> {
  return withStateLock(env, ws, 'stop', ctx, async (tx) => {
    const current = await tx.read();
    if (!current || current.type !== 'running') {
      const status = current?.type ?? 'clean';
      const records = current ? machinesOf(current) : [];
      // Stop again on a stopped federation: every recorded machine is listed, so the answer covers all of them.
      if (records.length > 0) {
        return {
          outcomes: records.map((rec) => ({
            target: rec.name,
            result: 'already stopped',
            message: `Stop was already requested (the federation is ${status}); nothing to do.`,
          })),
          status,
        };
      }
      return { outcomes: [{ target: '', result: 'already stopped', message: `The federation is not running (${status}): nothing to stop.` }], status };
    }
    const stopped = await stopInTx(env, ws, ctx, tx, current);
    return { outcomes: stopped.outcomes, status: 'dirty' };
  });
}

async function stopInTx(
  env: FederationEnv,
  ws: FederationWorkspace,
  ctx: OpContext,
  tx: StateTx<'federation'>,
  current: FederationState,
): Promise<{ outcomes: TargetOutcome[]; state: FederationState }> {
  const s = settingsOf(env);
  const format = await tx.format();
  const records = machinesOf(current);
  const config = records.some((r) => r.kind === 'remote') ? await loadConfigLenient(env, ws, ctx) : null;
  const results = await mapSettled(
    records,
    async (rec, _i, signal): Promise<TargetOutcome> => {
      // Stop removes nothing: clean's name rules do not apply, only "a real folder, not / or the temp root".
      const refusal = stopDirRefusal(rec.tmp_dir, s.tempRoot);
      if (refusal) {
        const error = stopRefused(rec, refusal);
        ctx.progress({ target: rec.name, step: 'refused', message: error.message, level: 'error' });
        return failed(rec.name, 'refused', error);
      }
      ctx.progress({ target: rec.name, step: 'signal', message: `Requesting shutdown on ${hostOf(rec)}` });
      const machine = machineFor(env, ws, await targetOfRecord(env, ws, rec, config));
      try {
        const res = await bounded(hostOf(rec), 'stop', { signal, timeoutMs: s.connectTimeoutMs }, async (inner) => {
          await machine.connect({ signal: inner });
          return machine.exec(scriptArgv(STOP_SCRIPT, rec.tmp_dir, rec.pid ? String(rec.pid) : '', machine.tempRoot), { signal: inner });
        });
        const answer = res.stdout.trim();
        if (res.code === 0 && (answer === 'symlink' || answer === 'refused')) {
          const error = stopRefused(rec, answer === 'symlink' ? 'it is a symbolic link' : 'its real path is / or the temp root');
          ctx.progress({ target: rec.name, step: 'refused', message: error.message, level: 'error' });
          return failed(rec.name, 'refused', error);
        }
        if (res.code !== 0 || !['alive', 'dead', 'gone'].includes(answer)) {
          throw new AppError('ssh-command', `Could not create ${SHUTDOWN_FILE} in ${rec.tmp_dir} on ${hostOf(rec)} (exit ${res.code ?? 'by signal'}).`, {
            host: hostOf(rec),
            details: { stderr: res.stderr.slice(-2000) },
          });
        }
        const outcome: TargetOutcome =
          answer === 'alive'
            ? { target: rec.name, result: 'signalled', message: `${SHUTDOWN_FILE} created; the participant is shutting down.` }
            : { target: rec.name, result: 'already stopped', message: answer === 'gone' ? 'Its temp folder is gone.' : 'Its process had already ended.' };
        ctx.progress({ target: rec.name, step: outcome.result, value: 1, message: outcome.message ?? outcome.result });
        return outcome;
      } catch (err) {
        const error = toErrorData(err);
        if (error.code === 'cancelled') throw err;
        // Only a machine that could not be reached is `unreachable`; an authentication failure (or any other) is `failed`.
        const result = stopFailureResult(error);
        ctx.progress({ target: rec.name, step: result, message: error.message, level: 'warn' });
        return failed(rec.name, result, error);
      } finally {
        await machine.close().catch(() => undefined);
      }
    },
    { concurrency: s.parallelism, signal: ctx.signal },
  );
  throwIfCancelled(ctx.signal);
  const outcomes = results.map((r, i) => (r.ok ? r.value : failed(records[i]!.name, stopFailureResult(r.error), r.error)));
  const data = current.data as Record<string, unknown>;
  const next: FederationState = { ...current, type: 'dirty', data: { ...data, machines: markOrigin(records, format) } } as FederationState;
  const written = await tx.write(next);
  return { outcomes, state: written };
}

/** A stop that did not reach its machine is `unreachable`; every other failure (ssh-auth, ssh-command, …) `failed`. */
function stopFailureResult(error: ErrorData): StopResult {
  return error.code === 'ssh-unreachable' || error.code === 'ssh-timeout' ? 'unreachable' : 'failed';
}

// ---------------------------------------------------------------------------------------------------------------
// clean

/**
 * Cleans a dirty federation: removes each recorded temp folder — only one that passes the path checks (our name
 * pattern, or ReFedEz's for adopted records; real path directly under the temp root; no symlink) — then the state
 * folder. Refuses while running unless `force` (which stops first). Any refused path fails the clean before anything
 * is deleted (`path-refused`). Unreachable machines stay listed and the state stays dirty, so clean can be retried.
 */
export async function cleanFederation(
  env: FederationEnv,
  ws: FederationWorkspace,
  ctx: OpContext,
  opts: { readonly force?: boolean } = {},
): Promise<FederationResult> {
  const s = settingsOf(env);
  return withStateLock(env, ws, 'clean', ctx, async (tx) => {
    let current = await tx.read();
    const outcomes: TargetOutcome[] = [];
    if (!current || current.type === 'clean') {
      return { outcomes: [{ target: '', result: 'already clean', message: 'The federation is clean: nothing to remove.' }], status: 'clean' };
    }
    if (current.type === 'running') {
      if (!opts.force) {
        throw wrongStatus(
          ws.statePath,
          'The federation is running: clean would pull the kits from under running participants.',
          'Stop it first, or clean with force (which stops first).',
        );
      }
      ctx.progress({ target: '', step: 'stop', message: 'Stopping first (force)' });
      const stopped = await stopInTx(env, ws, ctx, tx, current);
      outcomes.push(...stopped.outcomes);
      current = stopped.state;
    }
    const format = await tx.format();
    const records = machinesOf(current);

    const lineage = typeof current.lineage === 'string' ? current.lineage : undefined;
    const lexical = records.flatMap((rec) => {
      const why = tmpDirRefusal(rec.tmp_dir, s.tempRoot, originOf(rec, format), lineage);
      return why ? [{ rec, why }] : [];
    });
    if (lexical.length > 0) throw refusedAll(lexical);

    const config = records.some((r) => r.kind === 'remote') ? await loadConfigLenient(env, ws, ctx) : null;
    const machines = new Map<number, Machine>();
    try {
      // Phase 1: ask every machine what each recorded path really is; delete nothing yet.
      type Check = { kind: 'dir'; running: boolean } | { kind: 'missing' };
      const checks = await mapSettled(
        records,
        async (rec, i, signal): Promise<Check> => {
          ctx.progress({ target: rec.name, step: 'check', message: `Checking ${rec.tmp_dir} on ${hostOf(rec)}` });
          const machine = machineFor(env, ws, await targetOfRecord(env, ws, rec, config));
          machines.set(i, machine);
          await machine.connect({ signal });
          const res = await machine.exec(scriptArgv(CHECK_SCRIPT, rec.tmp_dir, machine.tempRoot), { signal, timeoutMs: s.commandTimeoutMs });
          const [what, realDir, realRoot, running] = res.stdout.split('\n');
          if (res.code !== 0)
            throw new AppError('ssh-command', `Could not inspect ${rec.tmp_dir} on ${hostOf(rec)} (exit ${res.code ?? 'by signal'}).`, { host: hostOf(rec) });
          if (what === 'missing') return { kind: 'missing' };
          if (what === 'symlink') throw pathRefused(rec, 'it is a symbolic link');
          if (what !== 'dir') throw pathRefused(rec, 'it is not a folder');
          const why = realDirRefusal(rec.tmp_dir, realDir ?? '', realRoot ?? '', originOf(rec, format), lineage);
          if (why) throw pathRefused(rec, why);
          return { kind: 'dir', running: running === 'running' };
        },
        { concurrency: s.parallelism, signal: ctx.signal },
      );
      throwIfCancelled(ctx.signal);
      const refused = checks.flatMap((c, i) => (!c.ok && c.error.code === 'path-refused' ? [{ rec: records[i]!, why: c.error.message }] : []));
      if (refused.length > 0) throw refusedAll(refused, true);
      const keyProblem = checks.find((c): c is { ok: false; error: ErrorData } => !c.ok && isHostKeyError(c.error));
      if (keyProblem) throw AppError.fromData(keyProblem.error);

      // Phase 2: remove the verified folders.
      const removals = await mapSettled(
        records,
        async (rec, i, signal): Promise<TargetOutcome> => {
          const check = checks[i]!;
          if (!check.ok) throw AppError.fromData(check.error);
          if (check.value.kind === 'missing') return { target: rec.name, result: 'already gone', message: `${rec.tmp_dir} no longer exists.` };
          const machine = machines.get(i)!;
          // Removing the folder of a participant that still runs would orphan it (it waits for shutdown.fl in that
          // folder, forever) and race its writes: ask it to stop and give it the grace period first.
          if (check.value.running && !(await settle(machine, rec, s.stopGraceMs, signal, ctx))) {
            const error: ErrorData = {
              code: 'busy',
              message: `The participant in ${rec.tmp_dir} on ${hostOf(rec)} is still running ${Math.round(s.stopGraceMs / 1000)} s after ${SHUTDOWN_FILE} was created; its folder was kept.`,
              host: hostOf(rec),
              path: rec.tmp_dir,
              hint: 'Check it with probe and logs, end it on the machine if it hangs, then clean again.',
            };
            return failed(rec.name, 'still running', error);
          }
          ctx.progress({ target: rec.name, step: 'remove', message: `Removing ${rec.tmp_dir} on ${hostOf(rec)}` });
          // A supervisor's last log line can land while rm runs ("Directory not empty": FLARE's sub_start.sh removes
          // its pid files before it logs and exits): retry a few times, backing off.
          for (let attempt = 0; ; attempt++) {
            try {
              await machine.removeDir(rec.tmp_dir, { signal, timeoutMs: s.commandTimeoutMs });
              break;
            } catch (err) {
              if (!isAppError(err, 'ssh-command') || attempt >= 3) throw err;
              await sleepOrCancel(300 * 2 ** attempt, signal);
            }
          }
          return { target: rec.name, result: 'removed', message: `${rec.tmp_dir} removed.` };
        },
        { concurrency: s.parallelism, signal: ctx.signal },
      );

      const remaining: MachineRecord[] = [];
      removals.forEach((r, i) => {
        const rec = records[i]!;
        if (r.ok && r.value.result === 'still running') {
          remaining.push(rec);
          outcomes.push(r.value);
          ctx.progress({ target: rec.name, step: 'still running', message: r.value.message ?? '', level: 'warn' });
        } else if (r.ok) {
          outcomes.push(r.value);
          ctx.progress({ target: rec.name, step: r.value.result, value: 1, message: r.value.message ?? r.value.result });
        } else {
          remaining.push(rec);
          outcomes.push(failed(rec.name, r.error.code === 'cancelled' ? 'cancelled' : 'unreachable', r.error));
          ctx.progress({ target: rec.name, step: 'unreachable', message: r.error.message, level: 'warn' });
        }
      });
      // Recorded even when cancelled: what was removed is gone.
      let status: FederationStatus;
      if (remaining.length === 0) {
        await removeStateFolder(tx, current);
        status = 'clean';
      } else {
        const data = current.data as Record<string, unknown>;
        await tx.write({ ...current, type: 'dirty', data: { ...data, machines: markOrigin(remaining, format) } } as FederationState);
        status = 'dirty';
      }
      throwIfCancelled(ctx.signal);
      return { outcomes, status };
    } finally {
      await closeAll(machines.values());
    }
  });
}

/**
 * Removes the state folder (as ReFedEz's clean does). When the folder is the project folder itself (refedez.folder:
 * "."), the state engine refuses; the state is then written as clean instead.
 */
async function removeStateFolder(tx: StateTx<'federation'>, before: FederationState | null): Promise<void> {
  try {
    await tx.remove({ folder: true });
  } catch (err) {
    if (!isAppError(err, 'path-refused')) throw err;
    if (before) await tx.write({ type: 'clean', data: {} });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

/** Asks a still-running kit to stop and waits (polling) until it has, up to `graceMs`; true when it stopped. */
async function settle(machine: Machine, rec: MachineRecord, graceMs: number, signal: AbortSignal, ctx: OpContext): Promise<boolean> {
  ctx.progress({ target: rec.name, step: 'wait', message: `Waiting for the participant in ${rec.tmp_dir} to stop` });
  const deadline = Date.now() + graceMs;
  for (;;) {
    const res = await machine.exec(scriptArgv(SETTLE_SCRIPT, rec.tmp_dir), { signal, timeoutMs: 10_000 });
    if (res.code === 0 && res.stdout.trim() === 'stopped') return true;
    if (Date.now() >= deadline) return false;
    await sleepOrCancel(250, signal);
  }
}

function hostOf(rec: MachineRecord): string {
  return rec.kind === 'local' ? 'localhost' : rec.host;
}

function describe(m: FederationMachine): string {
  if (m.target.kind === 'local') return 'this computer';
  const { user, host, port } = m.target.ssh;
  return `${user}@${host}${port === 22 ? '' : `:${port}`}`;
}

function pathRefused(rec: MachineRecord, why: string): AppError {
  return new AppError('path-refused', `Refusing to remove ${JSON.stringify(rec.tmp_dir)} of ${rec.name} on ${hostOf(rec)}: ${why}.`, {
    host: hostOf(rec),
    path: rec.tmp_dir,
    hint: 'Only temp folders Clusterdesk (or ReFedEz) created directly under the temp root are removed. The state file may have been edited; check it.',
  });
}

function stopRefused(rec: MachineRecord, why: string): AppError {
  return new AppError('path-refused', `Refusing to create ${SHUTDOWN_FILE} in ${JSON.stringify(rec.tmp_dir)} of ${rec.name} on ${hostOf(rec)}: ${why}.`, {
    host: hostOf(rec),
    path: rec.tmp_dir,
    hint: 'The recorded temp folder must be a real folder (not a symbolic link, / or the temp root). The state file may have been edited; check it.',
  });
}

function refusedAll(list: readonly { rec: MachineRecord; why: string }[], full = false): AppError {
  const first = list[0]!;
  const message = full ? first.why : pathRefused(first.rec, first.why).message;
  return new AppError('path-refused', `${message}${list.length > 1 ? ` (and ${list.length - 1} more)` : ''} Nothing was deleted.`, {
    host: hostOf(first.rec),
    path: first.rec.tmp_dir,
    hint: 'Only temp folders Clusterdesk (or ReFedEz) created directly under the temp root are removed. The state file may have been edited; check it.',
    details: { refused: list.map((r) => ({ machine: r.rec.name, path: r.rec.tmp_dir, reason: r.why })) },
  });
}

function fraction(p: UploadProgress): number {
  return p.totalBytes > 0 ? p.bytes / p.totalBytes : p.totalFiles > 0 ? p.files / p.totalFiles : 1;
}

function uploadMessage(p: UploadProgress): string {
  return `Uploading: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
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
