/**
 * The sandboxed preload: exposes exactly one object, `window.clusterdesk`, implementing the contract's
 * `ClusterdeskApi` over Electron IPC. No raw `ipcRenderer`, no Node APIs reach the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNELS, EVENTS, type ClusterdeskApi, type EventName } from './contract';

const channels = new Set<string>(CHANNELS);
const events = new Set<string>(EVENTS);

const api: ClusterdeskApi = {
  transport: 'electron',
  invoke: (channel, arg) => {
    if (!channels.has(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'invalid-argument', message: `Unknown channel ${String(channel)}.` } });
    }
    return ipcRenderer.invoke(channel, arg);
  },
  on: (event, listener, signal) => {
    if (!events.has(event)) throw new Error(`Unknown event ${String(event)}`);
    const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload as never);
    ipcRenderer.on(event as EventName, handler);
    signal?.addEventListener('abort', () => ipcRenderer.removeListener(event, handler), { once: true });
  },
  dialogs: {
    openFolder: () => ipcRenderer.invoke('dialog:open-folder'),
    openFile: (filters) => ipcRenderer.invoke('dialog:open-file', filters ?? []),
  },
};

contextBridge.exposeInMainWorld('clusterdesk', api);
// Tell main the page can receive events now (main queues until then).
ipcRenderer.send('renderer:ready');
