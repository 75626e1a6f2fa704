/**
 * `npm run bundle`: builds agent/bundle from agent/rolldown.config.mjs without ever leaving it
 * half written. A file whose bytes are unchanged is not touched, a changed one is written beside
 * it and renamed over it (the entry last), and files the build no longer makes are removed at the
 * end. A rebuild of unchanged sources (every `npm start` makes one) so changes nothing, while
 * agents started from the bundle may be loading it: emptying the directory first, as the
 * bundler's own cleanDir does, made their imports fail (seen in a full test run, where the README
 * test's `npm start` rebuilt it under the other files' agents).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { rolldown } from 'rolldown';
import config from '../rolldown.config.mjs';

const { output, ...input } = config;
const dir = output.dir;
const bundle = await rolldown(input);
const { output: files } = await bundle.generate(output);
await bundle.close();

mkdirSync(dir, { recursive: true });
const made = new Set();
// The entry last, so that no new main.js imports a chunk not yet written.
const entryLast = (file) => Number(file.type === 'chunk' && file.isEntry);
for (const file of [...files].sort((a, b) => entryLast(a) - entryLast(b))) {
  const bytes = file.type === 'chunk' ? file.code : file.source;
  const path = join(dir, file.fileName);
  made.add(file.fileName);
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(bytes))) continue;
  writeFileSync(`${path}.partial`, bytes);
  renameSync(`${path}.partial`, path);
}
for (const name of readdirSync(dir)) if (!made.has(name)) rmSync(join(dir, name), { force: true });
