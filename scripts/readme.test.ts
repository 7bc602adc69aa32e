import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The shell blocks of the Quick start section, in order. */
function quickStartLines(): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start')) ?? '';
  return [...section.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]!.trim());
}

describe('README Quick start', () => {
  it('has exactly two command lines: run and test', () => {
    const lines = quickStartLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^bash scripts\/install\.sh && npm (run serve|start)$/);
    expect(lines[1]).toMatch(/^bash scripts\/install\.sh && npm test$/);
  });

  it('is what CI runs, verbatim', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    expect(ci.split('\n')).toContain(quickStartLines()[1]);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts);
    for (const m of readme.matchAll(/npm run ([a-z0-9:-]+)/g)) expect(scripts).toContain(m[1]);
  });
});
