#!/usr/bin/env -S NODE_OPTIONS="--max-semi-space-size=2 ${NODE_OPTIONS}" SAVED_NODE_OPTIONS="${NODE_OPTIONS}" node
// The young generation is capped at 2 MiB semi-spaces (BENCHMARKS.md, "Footprint (issue 16)", 23):
// V8 would grow it to 16 MiB and keep it. Set here, the one way every launch path starts the
// agent (npm start, the image's entrypoint, the DaemonSet, the rigs); the user's NODE_OPTIONS
// comes after it, so theirs wins, and main() gives their own NODE_OPTIONS back to the bots.
import { main } from '../bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
