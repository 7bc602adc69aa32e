import type { ClusterdeskApi } from '../../preload/contract';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent when the page is served to a browser. */
    readonly clusterdesk?: ClusterdeskApi;
  }
}
