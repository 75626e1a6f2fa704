export * from './backoff.js';
export * from './device-facts.js';
export * from './paths.js';
