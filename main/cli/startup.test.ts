import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoCluster } from '../clusters/service';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Native / heavy modules a light command must not load: libvirt's FFI (koffi), @unraid/libvirt, ssh2 and pg. */
const HEAVY = /[/\\]node_modules[/\\](koffi|@koromix|@unraid[/\\]libvirt|ssh2|pg|pg-[a-z-]+)[/\\]/;
/** What no status command needs: SSH, PostgreSQL, and the progress bars of long operations. */
/** The XML builder (xmlbuilder2, with its DOM and js-yaml): only commands that write XML need it. */
const XML_BUILDER = /[/\\]node_modules[/\\](xmlbuilder2|@oozcitak|js-yaml)[/\\]/;
const NOT_FOR_STATUS = /[/\\]node_modules[/\\](ssh2|pg|pg-[a-z-]+|cli-progress)[/\\]/;

// A real process, observed from outside the code under test: a `--require` preload prints every CommonJS module
// (koffi, ssh2 and @unraid/libvirt are all CommonJS) in Node's module cache when the process exits.
const RECORDER = `process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require('node:module')._cache)) + '\\n'));\n`;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cd-startup-'));
  await writeFile(join(dir, 'recorder.cjs'), RECORDER);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function loadedBy(args: readonly string[]): Promise<{ code: number | null; stdout: string; loaded: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, '--require', join(dir, 'recorder.cjs'), join(ROOT, 'main', 'entry', 'cli.ts'), '--data-dir', join(dir, 'data'), ...args],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
      if (!line) return reject(new Error(`no module list from clusterdesk ${args.join(' ')}:\n${stderr}`));
      resolve({ code, stdout, loaded: JSON.parse(line.slice('LOADED '.length)) as string[] });
    });
  });
}

describe('CLI start-up loads only what a command needs', () => {
  it('--version and --help load none of koffi, @unraid/libvirt, ssh2 or pg', async () => {
    for (const args of [['--version'], ['--help'], ['hpc', '--help'], ['fed', 'start', '--help']]) {
      const r = await loadedBy(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(
        r.loaded.filter((p) => HEAVY.test(p)),
        args.join(' '),
      ).toEqual([]);
    }
  }, 240_000); // several processes through tsx: slow on a loaded machine, and nothing here is timed

  it('state show and fed status load none of them, while hpc status loads the libvirt FFI (the recorder sees it) but no SSH, pg or progress bars', async () => {
    const fed = join(dir, 'fed');
    await mkdir(fed, { recursive: true });
    await writeFile(join(fed, 'refedez.yaml'), 'refedez:\n  folder: ./.refedez\n  capabilities: ./project.yml\n  kits: ./kits\nmachines: {}\n');
    const demo = await createDemoCluster(join(dir, 'data'), join(dir, 'demo'));
    for (const args of [
      ['state', 'show', fed],
      ['fed', 'status', fed],
      ['state', 'show', demo.configFile],
    ]) {
      const r = await loadedBy(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(
        r.loaded.filter((p) => HEAVY.test(p) || NOT_FOR_STATUS.test(p)),
        args.join(' '),
      ).toEqual([]);
    }
    const status = await loadedBy(['hpc', 'status', demo.configFile]);
    expect(status.code).toBe(0);
    expect(status.loaded.some((p) => /[/\\](koffi|@koromix)[/\\]/.test(p))).toBe(true);
    expect(status.loaded.filter((p) => NOT_FOR_STATUS.test(p))).toEqual([]);
    // The ownership checks read XML with the small reader (libvirt/xml-read.ts): the XML builder and its DOM stay out.
    expect(status.loaded.filter((p) => XML_BUILDER.test(p))).toEqual([]);
  }, 240_000);
});
