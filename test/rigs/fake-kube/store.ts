/**
 * Objects keyed by resource/namespace/name with one cluster-wide resourceVersion counter that
 * every write increments, as etcd's revision does. No history is kept: the fake serves no
 * watches (farm-agent makes none).
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './validation.js';

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
  private revision = 0;

  get resourceVersion(): number {
    return this.revision;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(key(resource, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Every object of a resource (in one namespace, or all for undefined), with its key. */
  list(resource: string, namespace?: string): { key: string; object: KubeObject }[] {
    const prefix = namespace === undefined ? `${resource}/` : key(resource, namespace, '');
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, object]) => ({ key: k, object: structuredClone(object) }));
  }

  /** Removes an object; a delete is a write, so the revision moves on. */
  delete(resource: string, namespace: string, name: string): KubeObject | undefined {
    const k = key(resource, namespace, name);
    const found = this.objects.get(k);
    if (found === undefined) return undefined;
    this.objects.delete(k);
    this.revision += 1;
    return found;
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
    // etcd3's GuaranteedUpdate skips a write that changes nothing: no new resourceVersion. A
    // patch re-applying the same labels is free; a Lease renewal is not.
    if (previous !== undefined) {
      const unchanged = stamp(String(previous.metadata?.resourceVersion));
      if (canonical(unchanged) === canonical(previous)) return structuredClone(previous);
    }
    this.revision += 1;
    const stored = stamp(String(this.revision));
    this.objects.set(k, stored);
    return structuredClone(stored);
  }
}
