/**
 * `workspace:changed` in the window: a patch is applied in place to the snapshot held (unchanged VMs keep their
 * identity, so their rows do not re-render); a change the window cannot apply — it missed one, or holds nothing yet —
 * asks for a full snapshot instead. Pure, so it runs in Node tests.
 */
import type { WorkspaceChange, WorkspaceSnapshot } from '../../../preload/contract';
import { applyPatch } from '../../../preload/snapshot-patch';
import type { SnapshotMap } from './reducers';

export type ChangeOutcome =
  /** Applied (or a whole snapshot taken): the new map. */
  | { readonly kind: 'applied'; readonly map: SnapshotMap }
  /** Older than what the window holds: nothing to do. */
  | { readonly kind: 'stale' }
  /** The window's snapshot is not the patch's base: fetch a full one. */
  | { readonly kind: 'resync' };

/** What to do with one `workspace:changed`. */
export function applyChange(map: SnapshotMap, change: WorkspaceChange): ChangeOutcome {
  const cur = map[change.id];
  if (cur?.seq !== undefined && cur.seq >= change.seq) return { kind: 'stale' };
  if (change.patch && change.base !== undefined) {
    if (!cur || cur.seq !== change.base) return { kind: 'resync' };
    const next = applyPatch(cur, change.patch);
    return { kind: 'applied', map: { ...map, [change.id]: { ...next, seq: change.seq } } };
  }
  if (change.snapshot) return { kind: 'applied', map: { ...map, [change.id]: { ...change.snapshot, seq: change.seq } } };
  return { kind: 'resync' };
}

/**
 * A full snapshot fetched by the window (`workspace:snapshot`): taken unless the window already applied a later
 * change (a patch that overtook the answer). Snapshots without a revision (an error placeholder) always replace.
 */
export function takeSnapshot(map: SnapshotMap, snapshot: WorkspaceSnapshot): SnapshotMap {
  const cur = map[snapshot.id];
  if (cur?.seq !== undefined && snapshot.seq !== undefined && cur.seq > snapshot.seq) return map;
  return { ...map, [snapshot.id]: snapshot };
}
