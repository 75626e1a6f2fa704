/**
 * Watch streams as kube-apiserver serves them: 200 with one JSON event per line. A
 * resourceVersion older than the compaction point is not an HTTP error: the stream opens and
 * carries a single ERROR event whose object is a 410 Expired Status, then ends.
 */
import type { ServerResponse } from 'node:http';
import { expired } from './status.js';
import type { ObjectStore, StoredEvent } from './store.js';
import type { KubeObject } from './validation.js';

export interface WatchOptions {
  resource: string;
  /** From `fieldSelector=metadata.name=X`; undefined watches every object of the resource. */
  name: string | undefined;
  /** '' or '0': start with the current objects as ADDED; a number: replay what came after it. */
  resourceVersion: string;
  /** The server ends the stream after this long, as `timeoutSeconds` asks. */
  timeoutSeconds: number | undefined;
}

export function serveWatch(res: ServerResponse, store: ObjectStore, options: WatchOptions): void {
  const matches = (object: KubeObject): boolean =>
    options.name === undefined || object.metadata?.name === options.name;
  const send = (type: string, object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  // Flush headers now: a client waits for them before it reads any event.
  res.flushHeaders();

  let backlog: StoredEvent[];
  if (options.resourceVersion === '' || options.resourceVersion === '0') {
    backlog = store.list(options.resource).map((object) => ({
      type: 'ADDED',
      resource: options.resource,
      object,
      resourceVersion: Number(object.metadata?.resourceVersion),
    }));
  } else {
    const requested = Number(options.resourceVersion);
    const replay = store.since(requested);
    if (replay === undefined) {
      send('ERROR', expired(requested, store.compactedTo));
      res.end();
      return;
    }
    backlog = replay;
  }
  for (const e of backlog) {
    if (e.resource === options.resource && matches(e.object)) send(e.type, e.object);
  }

  const onEvent = (e: StoredEvent): void => {
    if (e.resource === options.resource && matches(e.object)) send(e.type, e.object);
  };
  store.events.on('event', onEvent);
  const timer =
    options.timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => res.end(), options.timeoutSeconds * 1000);
  res.on('close', () => {
    store.events.off('event', onEvent);
    clearTimeout(timer);
  });
}
