/**
 * Generates FLARE-like startup kits for the example federation (see main/federations/kits/example-kits.ts).
 *
 *   npx tsx examples/federation/generate-kits.ts [OUT_DIR] [--files N --bytes B]
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKits } from '../../main/federations/kits/example-kits';

export { generateKits, type GenerateKitsOptions, type GeneratedKit, type KitParticipant } from '../../main/federations/kits/example-kits';

/** The example project.yml next to this file. */
export const EXAMPLE_PROJECT = join(dirname(fileURLToPath(import.meta.url)), 'project.yml');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : undefined;
  };
  const extraFiles = flag('--files');
  const bytes = flag('--bytes');
  const out = resolve(args[0] ?? join(dirname(EXAMPLE_PROJECT), 'kits'));
  const kits = await generateKits(EXAMPLE_PROJECT, out, { ...(extraFiles ? { extraFiles } : {}), ...(bytes ? { bytes } : {}) });
  for (const k of kits) process.stdout.write(`${k.name} (${k.type}): ${k.path}\n`);
}
