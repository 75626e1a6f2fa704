/**
 * Deduplication of Events, as a pure state machine over an injected time.
 *
 * The first occurrence of a (type, reason, slot) is reported at once. Repeats within the window
 * are only counted; when the window ends with repeats, one follow-up Event carries them as an
 * events.k8s.io series (count = all occurrences, lastObservedTime, the last note). This needs
 * nothing but `create` on events (no patch of an existing Event, so the RBAC stays minimal and
 * nothing is lost if the first Event has been garbage-collected), and a flapping phone costs
 * at most two Events per key per window instead of one per flap.
 *
 * The note is not part of the key: it carries details (a battery percentage, a serial) that
 * would defeat the deduplication; the series keeps the last one.
 */

export interface ReportedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
  slot?: string;
}

export interface EventSummary {
  event: ReportedEvent;
  /** All occurrences in the window, the first (already reported) included: at least 2. */
  count: number;
  firstAt: number;
  lastAt: number;
}

interface Window {
  startedAt: number;
  repeats: number;
  last: ReportedEvent;
  lastAt: number;
}

export function eventKey(e: ReportedEvent): string {
  return JSON.stringify([e.type, e.reason, e.slot ?? '']);
}

export class EventDeduper {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly windowMs: number) {}

  /** true: report this occurrence now; false: it is a repeat, counted for the summary. */
  offer(e: ReportedEvent, now: number): boolean {
    const key = eventKey(e);
    const w = this.windows.get(key);
    if (w !== undefined && now - w.startedAt < this.windowMs) {
      w.repeats += 1;
      w.last = e;
      w.lastAt = now;
      return false;
    }
    this.windows.set(key, { startedAt: now, repeats: 0, last: e, lastAt: now });
    return true;
  }

  /**
   * Ends the windows that are over: summaries for those that saw repeats. Call before offer()
   * so that an occurrence after a window starts a new one rather than extending the old.
   */
  expire(now: number): EventSummary[] {
    const summaries: EventSummary[] = [];
    for (const [key, w] of this.windows) {
      if (now - w.startedAt < this.windowMs) continue;
      this.windows.delete(key);
      if (w.repeats > 0) {
        summaries.push({
          event: w.last,
          count: w.repeats + 1,
          firstAt: w.startedAt,
          lastAt: w.lastAt,
        });
      }
    }
    return summaries;
  }

  /** When the next window with repeats ends, for the caller's timer; undefined if none. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const w of this.windows.values()) {
      if (w.repeats === 0) continue;
      const end = w.startedAt + this.windowMs;
      if (next === undefined || end < next) next = end;
    }
    return next;
  }
}
