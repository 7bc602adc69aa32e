/**
 * Federation deploy and stop against real sshd machines on loopback (8 machines on 127.0.14.2–9).
 *
 * - start: our upload + launch of a 300-file / 20 MB kit to each of the 8 machines, against OpenSSH `scp -r` of the
 *   same kits to each machine one after another (same key, same known_hosts, BatchMode), measured in the same run.
 * - stop: 8 recorded machines of which 2 are silent (accept TCP, never speak), against one connect timeout.
 *
 *   npm run bench -- deploy [--reps N] [--timeout MS]
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { startMachines, startSilentListener, type MachinesFixture, type SilentListener } from '../test/support/sshd';
import type { FederationEnv, FederationWorkspace } from '../main/federations/env';
import { generateKits } from '../main/federations/kits/example-kits';
import { createMachine, resolveSsh } from '../main/federations/machines/index';
import { cleanFederation, startFederation, stopFederation } from '../main/federations/service';
import { simpleContext } from '../main/operations/types';
import { StateStore, type MachineRecord } from '../main/state';
import { median, report } from './lib';

const run = promisify(execFile);
const BASE = '127.0.14';
const MACHINES = 8;
const FILES = 300;
const BYTES = 20 * 1024 * 1024;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { reps: { type: 'string' }, timeout: { type: 'string' } } });
  const reps = Math.max(1, Number(values.reps ?? 3));
  const connectTimeoutMs = Math.max(100, Number(values.timeout ?? 2000));
  let fx: MachinesFixture | null = null;
  const silents: SilentListener[] = [];
  const work = await mkdtemp(join(tmpdir(), 'cd-bench-deploy-'));
  const store = new StateStore();
  try {
    fx = await startMachines(MACHINES, { base: BASE, port: 'auto' });
    const names = fx.machines.map((_, i) => (i === 0 ? 'server' : `site-${i}`));
    const participants = names.map((name, i) => ({ name, type: (i === 0 ? 'server' : 'client') as 'server' | 'client' }));
    // The 5 files every kit has (scripts, config, readme) plus payload files: 300 files in all.
    const kits = await generateKits(participants, join(work, 'kits'), { extraFiles: FILES - 5, bytes: BYTES });
    await writeFile(join(work, 'project.yml'), stringify({ api_version: 3, name: 'bench', participants }));
    const machines = Object.fromEntries(
      names.map((name, i) => [
        name,
        { type: 'remote', ip: fx!.machines[i]!.host, port: fx!.machines[i]!.port, user: fx!.machines[i]!.user, identity: fx!.clientKeyPath },
      ]),
    );
    await writeFile(join(work, 'refedez.yaml'), stringify({ refedez: { folder: './.refedez', capabilities: './project.yml', kits: './kits' }, machines }));
    const ws: FederationWorkspace = {
      folder: work,
      configFile: join(work, 'refedez.yaml'),
      statePath: join(work, '.refedez', 'state.json'),
      lineage: randomUUID(),
    };
    const env: FederationEnv = {
      store,
      parallelism: 8,
      connectTimeoutMs,
      knownHostsFiles: [fx.knownHostsPath],
      sshConfigPath: null,
      agentSocket: null,
      nvflare: null,
    };
    const ctx = simpleContext();
    const deployNotes = new Set<string>();
    const stopNotes = new Set<string>();
    /** Stops and cleans whatever a round left (twice if a slow machine missed the first try); never throws. */
    const cleanUp = async (): Promise<void> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const cleaned = await cleanFederation(env, ws, ctx, { force: true }).catch((err: unknown) => ({ status: `error: ${String(err)}`, outcomes: [] }));
        if (cleaned.status === 'clean') return;
      }
      stopNotes.add('a clean did not finish (a machine was too slow to answer): later rounds may start from a dirty state');
    };

    // --- deploy: ours vs sequential scp -r ---------------------------------------------------------------------
    const ours: number[] = [];
    const scp: number[] = [];
    const tarPar: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const t0 = performance.now();
      const started = await startFederation(env, ws, ctx);
      const t1 = performance.now();
      if (started.outcomes.some((o) => o.result !== 'started')) {
        // A slow run (a loaded machine: connect timeouts) is reported, never thrown: the line still prints.
        const bad = started.outcomes.filter((o) => o.result !== 'started');
        deployNotes.add(
          `round ${r}: ${bad.length} of ${started.outcomes.length} machines not started (${bad.map((o) => `${o.target}: ${o.error?.code ?? o.result}`).join(', ')})`,
        );
      }
      await cleanUp();

      const dests: string[] = [];
      const s0 = performance.now();
      for (let i = 0; i < MACHINES; i++) {
        const m = fx.machines[i]!;
        const dest = `/tmp/cd-bench-scp-${randomBytes(6).toString('hex')}`;
        dests.push(dest);
        await run('scp', [
          '-r',
          '-q',
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          `UserKnownHostsFile=${fx.knownHostsPath}`,
          '-o',
          'GlobalKnownHostsFile=/dev/null',
          '-i',
          fx.clientKeyPath,
          '-P',
          String(m.port),
          kits[i]!.path,
          `${m.user}@${m.host}:${dest}`,
        ]);
      }
      const s1 = performance.now();
      // For reference (not the baseline): OpenSSH's own ceiling here, `tar | ssh tar -x` to the 8 in parallel.
      const p0 = performance.now();
      await Promise.all(
        fx.machines.map((m, i) => {
          const dest = `/tmp/cd-bench-tar-${randomBytes(6).toString('hex')}`;
          dests.push(dest);
          return run('sh', [
            '-c',
            'tar -C "$1" -cf - . | ssh -q -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$2" -o GlobalKnownHostsFile=/dev/null -i "$3" -p "$4" "$5" "mkdir -m 700 $6 && tar -xf - -C $6"',
            'sh',
            kits[i]!.path,
            fx!.knownHostsPath,
            fx!.clientKeyPath,
            String(m.port),
            `${m.user}@${m.host}`,
            dest,
          ]);
        }),
      );
      const p1 = performance.now();
      // Loopback machines share this file system: the copies are removed here, as root.
      await Promise.all(dests.map((d) => rm(d, { recursive: true, force: true })));
      if (r > 0) {
        // The first round warms caches and connections' code paths; it is not counted.
        ours.push(t1 - t0);
        scp.push(s1 - s0);
        tarPar.push(p1 - p0);
      }
    }
    report({
      bench: 'deploy',
      case: `start ${MACHINES} machines, ${FILES} files / ${BYTES / 1024 / 1024} MB each (upload + launch)`,
      ms: median(ours),
      baseline: 'scp -r to each machine one after another',
      baseline_ms: median(scp),
      reps,
      samples_ms: ours.map(Math.round),
      baseline_samples_ms: scp.map(Math.round),
      openssh_parallel_tar_ms: Math.round(median(tarPar)),
      ...(deployNotes.size ? { note: [...deployNotes].join('; ') } : {}),
    });

    // --- stop with 2 of 8 silent -------------------------------------------------------------------------------
    silents.push(await startSilentListener(`${BASE}.50`), await startSilentListener(`${BASE}.51`));
    const stops: number[] = [];
    for (let r = 0; r < reps; r++) {
      await startFederation(env, ws, ctx);
      const target = { kind: 'federation' as const, file: ws.statePath, lineage: ws.lineage };
      const original = ((await store.load(target))?.data as { machines?: MachineRecord[] } | undefined)?.machines ?? [];
      if (original.length !== MACHINES) {
        stopNotes.add(`round ${r}: only ${original.length} of ${MACHINES} machines started (slow run); not timed`);
        await cleanUp();
        continue;
      }
      // Two recorded machines now sit behind listeners that accept and never speak.
      await store.update(target, 'bench', () => ({
        type: 'running',
        data: {
          deployed_files_path: work,
          machines: original.map((m, i) =>
            i >= MACHINES - 2 ? { ...m, host: silents[i - (MACHINES - 2)]!.host, port: silents[i - (MACHINES - 2)]!.port } : m,
          ),
        },
      }));
      const t0 = performance.now();
      const stopped = await stopFederation(env, ws, ctx);
      stops.push(performance.now() - t0);
      const results = stopped.outcomes.map((o) => o.result);
      if (results.filter((x) => x === 'signalled').length !== MACHINES - 2 || results.filter((x) => x === 'unreachable').length !== 2) {
        // On a loaded machine a real machine can miss the connect timeout too: report it with the figure, don't throw.
        const slow = stopped.outcomes.filter((o, i) => i < MACHINES - 2 && o.result !== 'signalled');
        stopNotes.add(
          `round ${r}: ${slow.length} reachable machine(s) did not answer within ${connectTimeoutMs} ms (${slow.map((o) => `${o.target}: ${o.error?.code ?? o.result}`).join(', ')})`,
        );
      }
      // Point the records back at the real machines, then stop and clean everything (not timed).
      await store.update(target, 'bench', () => ({ type: 'running', data: { deployed_files_path: work, machines: original } }));
      await cleanUp();
    }
    const single = createMachine(
      {
        kind: 'remote',
        ssh: await resolveSsh({ host: silents[0]!.host, port: silents[0]!.port, user: 'nobody', identity: fx.clientKeyPath }, { sshConfigPath: null }),
      },
      { knownHostsFiles: [fx.knownHostsPath], agentSocket: null, connectTimeoutMs },
    );
    const c0 = performance.now();
    await single.connect().catch(() => undefined);
    const oneConnect = performance.now() - c0;
    if (!stops.length) {
      process.stdout.write(
        `${JSON.stringify({ bench: 'deploy', case: `stop ${MACHINES} machines, 2 silent`, skipped: 'no round could start all machines', note: [...stopNotes].join('; ') })}\n`,
      );
      return;
    }
    report({
      bench: 'deploy',
      case: `stop ${MACHINES} machines, 2 silent`,
      ms: median(stops),
      baseline: `one connect timeout (${connectTimeoutMs} ms)`,
      baseline_ms: connectTimeoutMs,
      reps,
      samples_ms: stops.map(Math.round),
      measured_single_silent_connect_ms: Math.round(oneConnect),
      ...(stopNotes.size ? { note: [...stopNotes].join('; ') } : {}),
    });
  } finally {
    for (const s of silents) await s.close();
    await fx?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
