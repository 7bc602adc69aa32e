/**
 * Read-only federation operations: probe (is each recorded machine reachable, its participant alive, a shutdown
 * requested?), logs (the last lines of each kit's log) and trusting a host key the user confirmed. None of them
 * writes the state or takes its lock.
 */
import { posix } from 'node:path';
import type { MachineLog, MachineProbe } from '../../preload/contract';
import { AppError, toErrorData } from '../errors';
import type { OpContext } from '../operations/types';
import {
  knownHostsOf,
  loadConfigLenient,
  machineFor,
  machinesOf,
  settingsOf,
  stateTargetOf,
  targetOfRecord,
  type FederationEnv,
  type FederationWorkspace,
} from './env';
import { fingerprint, hostFieldMatches, knownHostsName, loadKnownHosts } from './machines/known-hosts';
import { mapSettled } from '../util';
import { type MachineTarget } from './machines/index';
import { PROBE_SCRIPT, scriptArgv } from './scripts';
import { KIT_LOG } from './common';

/** Probes every recorded machine in parallel (read-only; each bounded by the connect and command timeouts). */
export async function probeFederation(env: FederationEnv, ws: FederationWorkspace, ctx: OpContext): Promise<readonly MachineProbe[]> {
  const s = settingsOf(env);
  const records = machinesOf(await env.store.load(stateTargetOf(ws)));
  const config = records.some((r) => r.kind === 'remote') ? await loadConfigLenient(env, ws, ctx) : null;
  const results = await mapSettled(
    records,
    async (rec, _i, signal): Promise<MachineProbe> => {
      const machine = machineFor(env, ws, await targetOfRecord(env, ws, rec, config));
      try {
        ctx.progress({ target: rec.name, step: 'connect', message: `Connecting to ${machine.host}` });
        try {
          await machine.connect({ signal });
        } catch (err) {
          const error = toErrorData(err);
          if (error.code === 'cancelled') throw err;
          return { machine: rec.name, reachable: false, processAlive: null, shutdownRequested: null, lastLogLine: null, error };
        }
        const res = await machine.exec(scriptArgv(PROBE_SCRIPT, rec.tmp_dir, rec.pid ? String(rec.pid) : ''), { signal, timeoutMs: s.commandTimeoutMs });
        const [head = '', last] = res.stdout.split('\n');
        if (res.code !== 0) {
          throw new AppError('ssh-command', `The probe failed on ${machine.host} (exit ${res.code ?? 'by signal'}).`, { host: machine.host });
        }
        if (head === 'nodir') {
          return {
            machine: rec.name,
            reachable: true,
            processAlive: false,
            shutdownRequested: null,
            lastLogLine: null,
            error: { code: 'not-found', message: `The temp folder ${rec.tmp_dir} does not exist on ${machine.host}.`, host: machine.host, path: rec.tmp_dir },
          };
        }
        const [alive, shutdown] = head.split(' ');
        const probe: MachineProbe = {
          machine: rec.name,
          reachable: true,
          processAlive: alive === 'alive',
          shutdownRequested: shutdown === 'yes',
          lastLogLine: last ? last : null,
        };
        ctx.progress({ target: rec.name, step: 'probed', value: 1, message: probe.processAlive ? 'process alive' : 'process gone' });
        return probe;
      } finally {
        await machine.close().catch(() => undefined);
      }
    },
    { concurrency: s.parallelism, signal: ctx.signal },
  );
  if (ctx.signal.aborted) throw new AppError('cancelled', 'The probe was cancelled.');
  return results.map((r, i) =>
    r.ok
      ? r.value
      : {
          machine: records[i]!.name,
          reachable: r.error.code !== 'ssh-command',
          processAlive: null,
          shutdownRequested: null,
          lastLogLine: null,
          error: r.error,
        },
  );
}

/** The last `lines` lines (1..10,000) of each recorded machine's kit log, read in parallel. */
export async function federationLogs(
  env: FederationEnv,
  ws: FederationWorkspace,
  ctx: OpContext,
  opts: { readonly lines?: number } = {},
): Promise<readonly MachineLog[]> {
  const s = settingsOf(env);
  const lines = Math.min(10_000, Math.max(1, Math.floor(opts.lines ?? 50)));
  const records = machinesOf(await env.store.load(stateTargetOf(ws)));
  const config = records.some((r) => r.kind === 'remote') ? await loadConfigLenient(env, ws, ctx) : null;
  const results = await mapSettled(
    records,
    async (rec, _i, signal): Promise<MachineLog> => {
      const machine = machineFor(env, ws, await targetOfRecord(env, ws, rec, config));
      try {
        if (!posix.isAbsolute(rec.tmp_dir)) {
          throw new AppError('invalid-argument', `The recorded temp folder of ${rec.name} is not an absolute path.`, { path: rec.tmp_dir });
        }
        return { machine: rec.name, lines: await machine.readTail(posix.join(rec.tmp_dir, KIT_LOG), lines, { signal, timeoutMs: s.commandTimeoutMs }) };
      } finally {
        await machine.close().catch(() => undefined);
      }
    },
    { concurrency: s.parallelism, signal: ctx.signal },
  );
  return results.map((r, i) => (r.ok ? r.value : { machine: records[i]!.name, lines: [], error: r.error }));
}

/**
 * Trusts the host key of a federation machine at host:port — only if the machine presents exactly `fingerprint` —
 * by recording it in the workspace's known_hosts. A changed key is never overridden (`ssh-hostkey-changed`); a
 * different key than the one confirmed is `ssh-hostkey-unknown` with the key it presents.
 */
export async function trustHostKey(env: FederationEnv, ws: FederationWorkspace, host: string, port: number, fp: string): Promise<{ trusted: boolean }> {
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fp)) {
    throw new AppError('invalid-argument', `${JSON.stringify(fp)} is not an SSH SHA256 fingerprint.`, {
      hint: 'Pass the fingerprint exactly as reported (SHA256:…).',
    });
  }
  const target = await findTarget(env, ws, host, port);
  const machine = machineFor(env, ws, target, { trustFingerprint: fp });
  const lookup = target.kind === 'remote' ? knownHostsName(target.ssh.hostKeyAlias, target.ssh.port) : host;
  try {
    await machine.connect();
  } catch (err) {
    // The key is recorded before authentication: a login failure after it does not undo the trust.
    if (!(err instanceof AppError) || err.code === 'ssh-hostkey-unknown' || err.code === 'ssh-hostkey-changed') throw err;
    if (!(await isTrusted(env, ws, lookup, fp))) throw err;
  } finally {
    await machine.close().catch(() => undefined);
  }
  return { trusted: await isTrusted(env, ws, lookup, fp) };
}

async function isTrusted(env: FederationEnv, ws: FederationWorkspace, name: string, fp: string): Promise<boolean> {
  const entries = await loadKnownHosts([knownHostsOf(ws), ...(env.knownHostsFiles ?? [])]);
  return entries.some((e) => e.marker === null && hostFieldMatches(e.hosts, name) && fingerprint(Buffer.from(e.key, 'base64')) === fp);
}

/** The remote machine of this federation at host:port: from the config, else from the recorded state. */
async function findTarget(env: FederationEnv, ws: FederationWorkspace, host: string, port: number): Promise<MachineTarget> {
  const quiet: OpContext = { signal: new AbortController().signal, progress: () => undefined };
  const config = await loadConfigLenient(env, ws, quiet);
  for (const m of config?.machines ?? []) {
    if (m.target.kind === 'remote' && m.target.ssh.host === host && m.target.ssh.port === port) return m.target;
  }
  const records = machinesOf(await env.store.load(stateTargetOf(ws)).catch(() => null));
  const rec = records.find((r) => r.kind === 'remote' && r.host === host && (r.port || 22) === port);
  if (rec) return targetOfRecord(env, ws, rec, config);
  throw new AppError('not-found', `No machine of this federation is at ${host}:${port}.`, {
    host,
    hint: 'Trust host keys only for machines listed in refedez.yaml or in the recorded state.',
  });
}
