// Preloaded into the agent by the benchmark (NODE_OPTIONS=--expose-gc --import=…): on SIGUSR2 it
// collects garbage twice and writes process.memoryUsage() to $BENCH_HEAP_FILE. Nothing else.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_HEAP_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
    writeFileSync(file, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
  });
}
