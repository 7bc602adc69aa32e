import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { CHANNELS, type ErrorData } from '../../preload/contract';
import { dispatch, type DispatchLog, type HandlerTable } from './dispatch';
import { wirePayload, type EventHub } from './events';

/**
 * Binds the handler table to `ipcMain.handle` and forwards main's events to our window. A message from any frame
 * that is not our window's top frame on our own page is refused.
 */
export function bindElectronTransport(opts: {
  ipcMain: IpcMain;
  table: HandlerTable;
  events: EventHub;
  isTrusted: (event: IpcMainInvokeEvent) => boolean;
  target: () => WebContents | null;
  log?: DispatchLog;
}): () => void {
  const untrusted: ErrorData = { code: 'invalid-argument', message: 'IPC from an untrusted sender was refused.' };
  for (const channel of CHANNELS) {
    opts.ipcMain.handle(channel, (event, arg: unknown) =>
      opts.isTrusted(event) ? dispatch(opts.table, channel, arg, opts.log) : { ok: false, error: untrusted },
    );
  }
  // Events emitted before the page said it is ready are queued, not lost.
  let ready = false;
  const queue: [string, unknown][] = [];
  const onReady = (event: { sender: WebContents }) => {
    if (event.sender !== opts.target()) return;
    ready = true;
    for (const [name, payload] of queue.splice(0)) event.sender.send(name, payload);
  };
  opts.ipcMain.on('renderer:ready', onReady);
  const unsubscribe = opts.events.subscribe((name, full) => {
    const payload = wirePayload(name, full);
    const wc = opts.target();
    if (!wc || wc.isDestroyed()) return;
    if (!ready) {
      queue.push([name, payload]);
      if (queue.length > 1000) queue.shift();
      return;
    }
    wc.send(name, payload);
  });
  return () => {
    unsubscribe();
    opts.ipcMain.removeListener('renderer:ready', onReady);
    for (const channel of CHANNELS) opts.ipcMain.removeHandler(channel);
  };
}
