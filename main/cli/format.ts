import type { ErrorCode, ErrorData, TargetOutcome } from '../../preload/contract';
import { assertNever } from '../../preload/contract';
import { redactText } from '../secrets/redact';

/** Documented exit codes (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, state: 3, unreachable: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an error: state problems 3, unreachable machines / hosts 4, bad usage 2, the rest 1. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  switch (code) {
    case 'state-locked':
    case 'state-corrupt':
    case 'state-stale':
    case 'state-foreign':
    case 'state-mismatch':
    case 'state-permission':
      return EXIT.state;
    case 'ssh-unreachable':
    case 'ssh-timeout':
    case 'libvirt-conn':
    case 'backend-unreachable':
      return EXIT.unreachable;
    case 'invalid-argument':
    case 'confirmation-required':
      return EXIT.usage;
    case 'internal':
    case 'not-found':
    case 'busy':
    case 'cancelled':
    case 'unsupported':
    case 'workspace-unknown':
    case 'workspace-not-found':
    case 'config-invalid':
    case 'state-io':
    case 'state-wrong-status':
    case 'libvirt-unavailable':
    case 'libvirt-error':
    case 'libvirt-conflict':
    case 'ssh-hostkey-unknown':
    case 'ssh-hostkey-changed':
    case 'ssh-auth':
    case 'ssh-command':
    case 'path-refused':
    case 'provision-failed':
    case 'bundle-invalid':
      return EXIT.failed;
    default:
      return assertNever(code);
  }
}

/** Outcome words that mean a target did not do what was asked (exit 4 when some did and some did not). */
const FAILED_RESULTS = new Set(['failed', 'unreachable', 'refused', 'error', 'timeout']);

/**
 * The exit code of a command that ran to its end (`"ok": true`) with per-target outcomes — the one rule docs/cli.md
 * states: 0 when every target did what was asked (or had nothing to do); 1 when some target failed for a reason a
 * retry alone will not fix (its error's code is not an unreachable one: `ssh-auth`, `path-refused`, `libvirt-error`,
 * …); else 4 when some target could not be reached or timed out (`ssh-unreachable`, `ssh-timeout`, `libvirt-conn`,
 * or a failure that carries no error).
 */
export function exitCodeForOutcomes(outcomes: readonly TargetOutcome[]): ExitCode {
  let exit: ExitCode = EXIT.ok;
  for (const o of outcomes) {
    if (!FAILED_RESULTS.has(o.result) && !o.error) continue;
    const byCode = o.error ? exitCodeFor(o.error.code) : EXIT.unreachable;
    if (byCode !== EXIT.unreachable) return EXIT.failed;
    exit = EXIT.unreachable;
  }
  return exit;
}

/** The more serious of two exit codes: a failure (1, 2, 3) over a partial result (4) over success (0). */
export function worseExit(a: ExitCode, b: ExitCode): ExitCode {
  const rank = (c: ExitCode) => (c === EXIT.ok ? 0 : c === EXIT.unreachable ? 1 : 2);
  return rank(b) > rank(a) ? b : a;
}

/** An error for people: message, then where, then what to do. Redacted (the data may not come from an AppError). */
export function renderError(e: ErrorData): string {
  const lines = [`error [${e.code}]: ${e.message}`];
  if (e.path) lines.push(`  file: ${e.path}${e.line ? `:${e.line}` : ''}${e.field ? ` (${e.field})` : ''}`);
  else if (e.field) lines.push(`  field: ${e.field}`);
  if (e.host) lines.push(`  host: ${e.host}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  return redactText(lines.join('\n'));
}

/** A plain text table with a header row; cells are stringified, columns padded to their widest cell. */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  // A loop, not Math.max(...spread): a 140,000-row table overflows the call stack as arguments.
  const widths = headers.map((_, i) => cells.reduce((w, r) => Math.max(w, (r[i] ?? '').length), 0));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
