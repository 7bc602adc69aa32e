/**
 * Federation clean: remove every recorded temp folder that passes the path checks, then the state folder.
 */
import type { ErrorData, FederationStatus, TargetOutcome } from '../../preload/contract';
import { AppError, isAppError, throwIfCancelled } from '../errors';
import type { OpContext } from '../operations/types';
import { sleepOrCancel, mapSettled } from '../util';
import { type FederationState, type MachineRecord } from '../state';
import {
  closeAll,
  failed,
  isHostKeyError,
  loadConfigLenient,
  machineFor,
  machinesOf,
  markOrigin,
  originOf,
  settingsOf,
  targetOfRecord,
  withStateLock,
  wrongStatus,
} from './env';
import type { FederationEnv, FederationResult, FederationWorkspace } from './env';
import { type Machine } from './machines/index';
import { realDirRefusal, tmpDirRefusal } from './paths';
import { CHECK_SCRIPT, scriptArgv, SETTLE_SCRIPT } from './scripts';
import { SHUTDOWN_FILE, hostOf, removeStateFolder } from './common';
import { stopInTx } from './stop';

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

function pathRefused(rec: MachineRecord, why: string): AppError {
  return new AppError('path-refused', `Refusing to remove ${JSON.stringify(rec.tmp_dir)} of ${rec.name} on ${hostOf(rec)}: ${why}.`, {
    host: hostOf(rec),
    path: rec.tmp_dir,
    hint: 'Only temp folders Clusterdesk (or ReFedEz) created directly under the temp root are removed. The state file may have been edited; check it.',
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
