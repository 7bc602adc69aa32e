import type { EventMap, EventName } from '../../preload/contract';

export type EventSink = <E extends EventName>(event: E, payload: EventMap[E]) => void;

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
