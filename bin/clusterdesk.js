#!/usr/bin/env node
// The package's bin: runs the built CLI (`npm run build` produces out/main/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('clusterdesk: the CLI is not built yet; run `npm run build` in the Clusterdesk folder first.\n');
  process.exit(2);
}
await import(cli.href);
