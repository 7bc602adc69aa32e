import type { EventMap, EventName, WorkspaceChange } from '../../preload/contract';

export type EventSink = <E extends EventName>(event: E, payload: EventMap[E]) => void;

/**
 * What a transport sends for an event: a `workspace:changed` with a patch goes without the whole snapshot main keeps
 * beside it for in-process listeners (windows hold their own copy and apply the patch); everything else as it is.
 */
export function wirePayload<E extends EventName>(event: E, payload: EventMap[E]): EventMap[E] {
  if (event !== 'workspace:changed') return payload;
  const change = payload as WorkspaceChange;
  if (!change.patch) return payload;
  const { snapshot: _held, ...slim } = change;
  return slim as EventMap[E];
}

/** Fans main's events out to every transport (Electron windows, WebSocket clients, the tray). */
export class EventHub {
  private readonly sinks = new Set<EventSink>();

  /** Adds a sink; returns its removal function. */
  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    for (const sink of this.sinks) {
      try {
        sink(event, payload);
      } catch {
        // One broken sink (a closed window, a dead socket) must not starve the others.
      }
    }
  }
}
