/**
 * Timing marks for `npm run bench -- ui`, off in normal use: they record only when the page defines
 * `window.__cdPerf` before the app loads (the bench does, through an init script). Each sample is the time from a
 * `workspace:changed` frame's arrival (before it is parsed) to the commit of the render that shows it.
 */
interface PerfProbe {
  pending?: { readonly id: string; readonly seq: number; readonly t0: number } | null;
  readonly samples: { readonly id: string; readonly seq: number; readonly ms: number }[];
}

function probe(): PerfProbe | undefined {
  return (globalThis as { __cdPerf?: PerfProbe }).__cdPerf;
}

/** Whether the bench is listening (read once per frame; false in normal use). */
export function perfOn(): boolean {
  return probe() !== undefined;
}

/** A `workspace:changed` for `id` at revision `seq` arrived at `t0` (performance.now()). */
export function markChangeArrived(id: string, seq: number, t0: number): void {
  const p = probe();
  if (p) p.pending = { id, seq, t0 };
}

/** A render showing `id` at revision `seq` committed. */
export function markCommitted(id: string, seq: number | undefined): void {
  const p = probe();
  const pending = p?.pending;
  if (!p || !pending || pending.id !== id || seq === undefined || seq < pending.seq) return;
  p.samples.push({ id, seq: pending.seq, ms: performance.now() - pending.t0 });
  p.pending = null;
}
