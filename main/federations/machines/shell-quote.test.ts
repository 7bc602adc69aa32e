import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { quoteArg, shellQuote } from './shell-quote';

const run = promisify(execFile);

/** Parses `line` with a real /bin/sh and returns the argv it produced (NUL-separated by printf). */
async function shRoundTrip(argv: readonly string[]): Promise<string[]> {
  const script = `set -- ${shellQuote(argv)}; printf '%s\\0' "$@"`;
  const { stdout } = await run('/bin/sh', ['-c', script], { encoding: 'buffer' });
  const parts = stdout.toString('utf8').split('\0');
  parts.pop(); // the trailing NUL
  return parts;
}

const canaryDir = mkdtempSync(join(tmpdir(), 'cd-quote-'));
const canary = join(canaryDir, 'CANARY');
afterAll(() => rmSync(canaryDir, { recursive: true, force: true }));

const hostile = [
  '',
  ' ',
  "'",
  "''",
  `"`,
  `a'b"c`,
  'two words',
  'line\nbreak',
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `'; touch ${canary}; '`,
  '$HOME',
  '${IFS}',
  '\\',
  '*',
  '~',
  'A=1',
  'if',
  '!',
  '-n',
  'ünïcødé ✓ 🚀',
  '\t\r\v',
];

describe('shellQuote', () => {
  it('round-trips hostile arguments through /bin/sh and never runs them', async () => {
    expect(await shRoundTrip(hostile)).toEqual(hostile);
    expect(existsSync(canary)).toBe(false);
  });

  it('round-trips arbitrary strings (fuzz against /bin/sh)', async () => {
    const arg = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom("'", '"', '\\', '$', '`', '(', ')', ' ', '\n', ';', '&', '|', '*', 'a', '~', '=') }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          arg.filter((s) => !s.includes('\0')),
          { minLength: 1, maxLength: 6 },
        ),
        async (argv) => {
          expect(await shRoundTrip(argv)).toEqual(argv);
        },
      ),
      { numRuns: 150 },
    );
    expect(existsSync(canary)).toBe(false);
  });

  it('runs an argv whose first word would otherwise be an assignment or a reserved word', async () => {
    await expect(run('/bin/sh', ['-c', shellQuote(['if', 'x'])])).rejects.toMatchObject({ stderr: expect.stringMatching(/not found/) });
  });

  it('refuses NUL bytes and empty command lines', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
    expect(() => shellQuote([])).toThrow(/empty/);
  });
});
