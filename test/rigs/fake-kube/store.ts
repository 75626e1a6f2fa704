/**
 * Objects keyed by resource/namespace/name with one cluster-wide resourceVersion counter that
 * every write increments, as etcd's revision does, and the history watches replay from.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { KubeObject } from './validation.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  resourceVersion: number;
}

/** JSON with sorted keys, so that key order does not make two equal objects differ. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function key(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoredEvent[] = [];
  private revision = 0;
  /** The oldest resourceVersion a watch may still start from; older ones get 410. */
  private oldest = 0;
  /** Emits 'event' with each StoredEvent, after it is in the history. */
  readonly events = new EventEmitter();

  get resourceVersion(): number {
    return this.revision;
  }

  get compactedTo(): number {
    return this.oldest;
  }

  /** Forget history up to now, as etcd compaction (every 5 minutes in a real cluster) does. */
  compact(): void {
    this.oldest = this.revision;
    this.history.length = 0;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(key(resource, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  list(resource: string): KubeObject[] {
    const prefix = `${resource}/`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => structuredClone(v));
  }

  /** Writes an object, stamping server-owned metadata, and returns what was stored. */
  write(resource: string, namespace: string, object: KubeObject): KubeObject {
    const meta = object.metadata ?? {};
    const name = String(meta.name);
    const k = key(resource, namespace, name);
    const previous = this.objects.get(k);
    const stamp = (resourceVersion: string): KubeObject => ({
      ...structuredClone(object),
      metadata: {
        ...meta,
        ...(namespace === '' ? {} : { namespace }),
        uid: previous?.metadata?.uid ?? randomUUID(),
        creationTimestamp:
          previous?.metadata?.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion,
      },
    });
    // etcd3's GuaranteedUpdate skips a write that changes nothing: no new resourceVersion, no
    // watch event. A patch re-applying the same labels is free; a Lease renewal is not.
    if (previous !== undefined) {
      const unchanged = stamp(String(previous.metadata?.resourceVersion));
      if (canonical(unchanged) === canonical(previous)) return structuredClone(previous);
    }
    this.revision += 1;
    const stored = stamp(String(this.revision));
    this.objects.set(k, stored);
    const event: StoredEvent = {
      type: previous === undefined ? 'ADDED' : 'MODIFIED',
      resource,
      object: structuredClone(stored),
      resourceVersion: this.revision,
    };
    this.history.push(event);
    this.events.emit('event', event);
    return structuredClone(stored);
  }

  /** Events after `resourceVersion`, or undefined if compaction already dropped some of them. */
  since(resourceVersion: number): StoredEvent[] | undefined {
    if (resourceVersion < this.oldest) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }
}
