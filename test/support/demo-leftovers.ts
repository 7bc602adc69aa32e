import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Asks any demo kit still running (a failed test) to stop, so no local participant outlives the run. */
export async function stopDemoLeftovers(dataDir: string): Promise<void> {
  const demos = join(dataDir, 'demos');
  for (const name of await readdir(demos).catch(() => [] as string[])) {
    const text = await readFile(join(demos, name, '.refedez', 'state.json'), 'utf8').catch(() => null);
    if (!text) continue;
    const machines = (JSON.parse(text) as { data?: { machines?: { tmp_dir?: string }[] } }).data?.machines ?? [];
    for (const m of machines) if (m.tmp_dir?.startsWith('/tmp/clusterdesk-')) await writeFile(join(m.tmp_dir, 'shutdown.fl'), '').catch(() => undefined);
  }
}
