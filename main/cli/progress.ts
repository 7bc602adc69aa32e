import cliProgress from 'cli-progress';
import type { OpContext, ProgressUpdate } from '../operations/types';
import { cancellation } from './signals';
import { redactText } from '../secrets/redact';

/** Where progress goes: bars on a terminal, plain lines otherwise (CI logs, pipes), JSON lines on stderr for --json. */
export type ProgressMode = 'bars' | 'lines' | 'json';

export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'bars' : 'lines';
}

/** One plain progress line: `[target] step: message (42%)`. */
export function progressLine(u: ProgressUpdate): string {
  const pct = typeof u.value === 'number' ? ` (${Math.round(u.value * 100)}%)` : '';
  const level = u.level && u.level !== 'info' ? `${u.level}: ` : '';
  return `${u.target ? `[${u.target}] ` : ''}${u.step}: ${level}${u.message}${pct}`;
}

/**
 * An OpContext for one CLI command: cancelled by the first SIGINT/SIGTERM (see ./signals; a second one exits at once)
 * and reporting progress in the chosen mode. `done()` clears the bars.
 */
export function cliContext(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): OpContext & { done(): void } {
  let multibar: cliProgress.MultiBar | null = null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const progress = (raw: ProgressUpdate) => {
    // A log line: redacted like every other (docs/state.md "Secrets").
    const u: ProgressUpdate = { ...raw, message: redactText(raw.message) };
    if (mode === 'json') return void stream.write(`${JSON.stringify({ progress: u })}\n`);
    if (mode === 'lines' || typeof u.value !== 'number') {
      if (multibar) multibar.log(`${progressLine(u)}\n`);
      else stream.write(`${progressLine(u)}\n`);
      if (typeof u.value !== 'number') return;
    }
    if (mode !== 'bars') return;
    multibar ??= new cliProgress.MultiBar(
      { stream, format: ' {bar} {percentage}% | {target} | {message}', hideCursor: true, clearOnComplete: false, autopadding: true },
      cliProgress.Presets.shades_classic,
    );
    const key = u.target || 'overall';
    let bar = bars.get(key);
    if (!bar) {
      bar = multibar.create(100, 0, { target: key, message: '' });
      bars.set(key, bar);
    }
    bar.update(Math.round(u.value * 100), { target: key, message: `${u.step}: ${u.message}`.slice(0, 60) });
  };
  return {
    signal: cancellation(),
    progress,
    done: () => {
      multibar?.stop();
    },
  };
}
