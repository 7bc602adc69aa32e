/**
 * A child process for the PostgreSQL backend's multi-process tests (run with tsx). argv[2] is a JSON config; stdout
 * lines report progress. Modes: `race` (N read-increment-write updates), `hold` (takes the lock and never lets go),
 * `saver` (N saves of a big state).
 */
import { sampleCluster } from '../../../test/support/state/samples';
import { PgStateBackend, type PgTarget } from './postgres';

interface Config {
  readonly mode: 'race' | 'hold' | 'saver';
  readonly url: string;
  readonly key: string;
  readonly count?: number;
  readonly vms?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const say = (line: string) => process.stdout.write(`${line}\n`);
const backend = PgStateBackend.create(config.url, { lockTimeoutMs: 60_000 });
const target: PgTarget<'cluster'> = { kind: 'cluster', key: config.key };

async function main(): Promise<void> {
  await backend.migrate();
  switch (config.mode) {
    case 'race': {
      say('ready');
      for (let i = 0; i < (config.count ?? 300); i++) {
        await backend.update(target, 'race', (cur) => ({ ...cur!, counter: ((cur!.counter as number) ?? 0) + 1 }));
      }
      say('done');
      break;
    }
    case 'saver': {
      say('ready');
      for (let i = 0; i < (config.count ?? 60); i++) {
        const w = await backend.update(target, 'save', (cur) => {
          const gen = ((cur?.counter as number | undefined) ?? 0) + 1;
          const base = sampleCluster(config.vms ?? 2000, 'pg-read-test');
          return { ...base, counter: gen, vms: base.vms.map((vm) => ({ ...vm, gen })) };
        });
        say(`w ${w.serial}`);
      }
      say('done');
      break;
    }
    case 'hold': {
      await backend.transaction(target, 'hold-test', async (tx) => {
        await tx.update((cur) => ({ ...cur!, counter: ((cur!.counter as number) ?? 0) + 1 }));
        say(`locked ${tx.lockId}`);
        await new Promise(() => setInterval(() => undefined, 60_000));
      });
    }
  }
  await backend.close();
}

main().catch((err: unknown) => {
  say(`error ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
