/**
 * Federation stop: `shutdown.fl` in every recorded temp folder, running → dirty.
 */
import type { ErrorData, TargetOutcome } from '../../preload/contract';
import { AppError, throwIfCancelled, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import { type FederationState, type MachineRecord, type StateTx } from '../state';
import { failed, loadConfigLenient, machineFor, machinesOf, markOrigin, settingsOf, targetOfRecord, withStateLock } from './env';
import type { FederationEnv, FederationResult, FederationWorkspace } from './env';
import { bounded } from './machines/guards';
import { mapSettled } from '../util';
import { stopDirRefusal } from './paths';
import { scriptArgv, STOP_SCRIPT } from './scripts';
import { SHUTDOWN_FILE, hostOf, type StopResult } from './common';

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

export async function stopInTx(
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

function stopRefused(rec: MachineRecord, why: string): AppError {
  return new AppError('path-refused', `Refusing to create ${SHUTDOWN_FILE} in ${JSON.stringify(rec.tmp_dir)} of ${rec.name} on ${hostOf(rec)}: ${why}.`, {
    host: hostOf(rec),
    path: rec.tmp_dir,
    hint: 'The recorded temp folder must be a real folder (not a symbolic link, / or the temp root). The state file may have been edited; check it.',
  });
}
