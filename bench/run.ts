/**
 * `npm run bench -- NAME [args…]` runs `bench/NAME.bench.ts`. Each bench prints JSON lines (docs/architecture.md, Benchmarks).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME   (one of: ${available.join(', ') || 'none yet'})\n`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { main(args: string[]): Promise<void> };
await mod.main(process.argv.slice(3));
