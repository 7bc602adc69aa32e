/**
 * A child process for the state engine's multi-process tests, bundled with esbuild (see children.ts) so that
 * hundreds of spawns stay cheap. argv[2] is a JSON config; stdout lines report progress; stdin "go" starts work.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StateStore, type ClusterState, type StateTarget } from '../../../main/state/index';
import { sampleCluster } from './samples';

interface Config {
  readonly mode: 'writer-loop' | 'race' | 'saver' | 'hold';
  readonly file: string;
  readonly vms?: number;
  readonly count?: number;
  readonly lockTimeoutMs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
// Pipes are synchronous on Linux: a line written here reaches the parent even if we are SIGKILLed right after.
const say = (line: string) => process.stdout.write(`${line}\n`);
const store = new StateStore({ onWarning: (m) => say(`warn ${m.replace(/\n/g, ' ')}`), lockTimeoutMs: config.lockTimeoutMs ?? 10_000 });
const target: StateTarget<'cluster'> = { kind: 'cluster', file: config.file };

/** The next generation: every VM carries the generation number, so a torn or mixed file cannot look consistent. */
function next(cur: ClusterState | null, vms: number): ClusterState {
  const counter = ((cur?.counter as number | undefined) ?? 0) + 1;
  const base = sampleCluster(vms, 'kill-test');
  return { ...base, counter, vms: base.vms.map((vm) => ({ ...vm, gen: counter })) };
}

/** One save on a scratch file first: the code paths are compiled before the parent starts its random kill timer. */
async function warmUp(): Promise<void> {
  const scratch = `${config.file}.warm-${process.pid}/state.json`;
  await store.update({ kind: 'cluster', file: scratch }, 'warm-up', (cur) => next(cur, config.vms ?? 100));
  await rm(dirname(scratch), { recursive: true, force: true });
}

async function waitForGo(): Promise<void> {
  if (config.mode === 'writer-loop') await warmUp();
  say('ready');
  await new Promise<void>((resolve) => {
    process.stdin.once('data', () => resolve());
  });
}

async function main(): Promise<void> {
  switch (config.mode) {
    case 'writer-loop': {
      await waitForGo();
      for (;;) {
        const w = await store.update(target, 'kill-test', (cur) => next(cur, config.vms ?? 100));
        say(`w ${w.serial}`);
      }
    }
    case 'race': {
      await waitForGo();
      for (let i = 0; i < (config.count ?? 300); i++) {
        await store.update(target, 'race', (cur) => ({ ...cur!, counter: (cur!.counter as number) + 1 }));
      }
      say('done');
      process.exit(0);
    }
    // falls through (unreachable: exit above)
    case 'saver': {
      await waitForGo();
      for (let i = 0; i < (config.count ?? 60); i++) {
        const w = await store.update(target, 'save', (cur) => next(cur, config.vms ?? 2000));
        say(`w ${w.serial}`);
      }
      say('done');
      process.exit(0);
    }
    // falls through (unreachable: exit above)
    case 'hold': {
      await store.transaction(target, 'hold-test', async (tx) => {
        say(`locked ${tx.lockId}`);
        // The heartbeat timer is unref'd (it must not keep a CLI alive), so hold the process open explicitly.
        await new Promise(() => setInterval(() => undefined, 60_000));
      });
    }
  }
}

main().catch((err: unknown) => {
  say(`error ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
