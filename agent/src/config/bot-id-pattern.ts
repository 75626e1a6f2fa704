/** Bot id patterns (FARM_BOT_ID_PATTERN): checked at start-up, expanded per slot in devices/. */

export const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDERS = new Set(['node', 'slot', 'index']);

/**
 * Why a bot id pattern such as `{node}-{slot}` cannot be used, or undefined.
 * Ids must be unique across the whole Swarming server: the pattern needs
 * `{node}` (unique among nodes) and `{slot}` or `{index}` (unique on a node),
 * or two phones would run bots with the same id.
 */
export function botIdPatternProblem(pattern: string): string | undefined {
  const names = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
  const unknown = names.find((name) => !PLACEHOLDERS.has(name));
  if (unknown !== undefined) {
    return `unknown placeholder {${unknown}} in ${JSON.stringify(pattern)}; use {node}, {slot}, {index}`;
  }
  if (/[{}]/.test(pattern.replace(PLACEHOLDER, ''))) {
    return `unbalanced brace in ${JSON.stringify(pattern)}`;
  }
  if (!names.includes('node') || !(names.includes('slot') || names.includes('index'))) {
    return `${JSON.stringify(pattern)} must contain {node} and {slot} or {index} to give unique bot ids`;
  }
  return undefined;
}
