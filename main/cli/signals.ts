/**
 * SIGINT / SIGTERM for the CLI (docs/cli.md "Signals"). While a command body runs, the first signal cancels it through
 * the operation's AbortSignal (the same path as the app's Cancel button): the operation stops at its next checkpoint,
 * records what exists, releases the state lock, and the process exits with 128 + the signal number. A second signal,
 * or a command that is still running `graceMs` after the first, exits at once. Outside a command body (parsing
 * arguments, printing help) a signal exits at once: nothing is held then.
 */

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type HandledSignal = keyof typeof SIGNAL_NUMBERS;

/** How long a cancelled command may take to wind down before the process exits anyway. */
export const DEFAULT_GRACE_MS = 10_000;

const controller = new AbortController();
let busy = 0;
let received: HandledSignal | null = null;
let installed = false;
let notice: (message: string) => void = (m) => void process.stderr.write(m);

/** The signal a command's operation context listens to: aborted by the first SIGINT/SIGTERM. */
export function cancellation(): AbortSignal {
  return controller.signal;
}

/** The signal received so far, if any (the CLI exits with 128 + its number). */
export function receivedSignal(): HandledSignal | null {
  return received;
}

export function exitCodeForSignal(signal: HandledSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** Installs the process's SIGINT/SIGTERM handlers once. */
export function installSignalHandlers(opts: { graceMs?: number; write?: (message: string) => void } = {}): void {
  if (installed) return;
  installed = true;
  if (opts.write) notice = opts.write;
  const graceMs = opts.graceMs ?? (Number(process.env.CLUSTERDESK_SIGNAL_GRACE_MS) || DEFAULT_GRACE_MS);
  const onSignal = (signal: HandledSignal) => {
    const code = exitCodeForSignal(signal);
    if (received || busy === 0) process.exit(code);
    received = signal;
    notice(`\n${signal === 'SIGINT' ? 'Interrupted' : 'Terminated'}: cancelling… (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again exits at once)\n`);
    controller.abort();
    // A command that does not wind down in time is ended anyway; unref'd so a finished command exits by itself.
    setTimeout(() => process.exit(code), graceMs).unref();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

/** Runs a command body as "busy": a signal during it cancels instead of exiting at once. */
export async function whileBusy<T>(body: () => Promise<T>): Promise<T> {
  busy++;
  try {
    return await body();
  } finally {
    busy--;
    if (received) process.exitCode = exitCodeForSignal(received);
  }
}
