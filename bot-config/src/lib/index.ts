/**
 * Primitives every layer may use (`@farm-agent/bot-config/lib`): they know
 * nothing of Swarming, adb or Kubernetes and import no other module of the project.
 */
export * from './async.js';
export * from './backoff.js';
export * from './clock.js';
export * from './line-splitter.js';
export * from './serial-queue.js';
export * from './timeout-group.js';
