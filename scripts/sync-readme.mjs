// Rewrites the README's settings table from the settings list the agent
// itself validates (`npm run docs`); test/readme.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdown } from '../agent/dist/config/load.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const updated = readme.replace(
  /(<!-- settings:begin -->\n)[\s\S]*?(<!-- settings:end -->)/,
  `$1${settingsMarkdown()}\n$2`,
);
writeFileSync(path, updated);
