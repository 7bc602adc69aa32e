/**
 * POSIX shell quoting — the only place a shell command line is built from data.
 *
 * Every remote command travels over an SSH exec channel as one string that the remote login shell parses, so each
 * argument is wrapped in single quotes, inside which a POSIX shell gives no character any meaning; a single quote
 * itself is written as `'\''` (close, escaped quote, reopen). Every argument is quoted, even plain words: an unquoted
 * `if` or `A=1` in command position would be a reserved word or an assignment. The grammar is small enough to be
 * fuzzed against a real `/bin/sh` (see shell-quote.test.ts).
 */

/** Quotes one argument for a POSIX shell. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quotes an argv for a POSIX shell: the result, parsed by `sh`, yields exactly `argv`. */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('an empty command line');
  return argv.map(quoteArg).join(' ');
}
