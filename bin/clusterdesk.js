#!/usr/bin/env node
// The package's bin: runs the built CLI (`npm run build` produces out/main/cli.js).
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('clusterdesk: the CLI is not built yet; run `npm run build` in the Clusterdesk folder first.\n');
  process.exit(2);
}
// V8's code cache for the CLI's own modules (Node ≥ 22.1; in Node's cache folder under the temp dir): the next run
// skips compiling them. It cannot go stale: every entry is keyed by the module's source hash and the V8 version, so
// a rebuilt or upgraded CLI compiles afresh. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();
await import(cli.href);
