import type { Slot } from '../devices/slot-state.js';
import type { LifecycleState } from './idle-counter.js';
import type { LifecycleMetrics } from './lifecycle-metrics.js';
import type { LifecycleEvent } from './lifecycle-types.js';

/**
 * Who hears of the lifecycle: listeners of the whole state (the cluster's
 * Lease) when it changed, listeners of each sleep and wake (Events), and the
 * metrics always.
 */
export class LifecycleReport {
  private readonly changeListeners = new Set<(state: LifecycleState) => void>();
  private readonly eventListeners = new Set<(event: LifecycleEvent) => void>();
  private published = '';

  constructor(private readonly metrics: LifecycleMetrics) {}

  onChange(listener: (state: LifecycleState) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onEvent(listener: (event: LifecycleEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  emit(event: LifecycleEvent): void {
    for (const listener of [...this.eventListeners]) listener(event);
  }

  /** Metrics always; listeners only when the state changed. `state` has every slot's key. */
  publish(state: LifecycleState, slots: Slot[]): void {
    for (const slot of slots) {
      const shown = state[slot.key];
      if (shown !== undefined) this.metrics.show(slot.name, shown);
    }
    const text = JSON.stringify(state);
    if (text === this.published) return;
    this.published = text;
    for (const listener of [...this.changeListeners]) listener(state);
  }
}
