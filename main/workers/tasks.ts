/** What the config worker does for each task (kept apart from the thread plumbing so it can run inline too). */
import { loadConfigInline, toTransferable } from '../clusters/workspace';
import { readYamlValue } from '../files/yaml-limits';
import { StateStore } from '../state/store';
import type { WorkerTask } from './protocol';

export async function handleTask(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'load-cluster-config':
      return toTransferable(await loadConfigInline(task.ws, task.processEnv));
    case 'read-yaml':
      return readYamlValue(task.file);
    case 'load-state':
      // Loading needs none of a store's settings (history length, lock timeout): a fresh one reads the same.
      return new StateStore().loadWithFormat(task.target);
  }
}
