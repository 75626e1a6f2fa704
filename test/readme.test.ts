import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdown } from '../agent/src/config/load.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every setting exactly as the agent validates it (npm run docs)', () => {
    const table = /<!-- settings:begin -->\n([\s\S]*?)<!-- settings:end -->/.exec(readme)?.[1];
    expect(table?.trim()).toBe(settingsMarkdown());
  });
});
