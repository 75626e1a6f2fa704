// Lets Node 20 run the benchmark's TypeScript, and the test rigs it drives, from where they are.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
