import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The absolute path of an executable `program`, as exec would find it: the program itself
 * when it holds a slash, else the first executable match on `path`.
 */
export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, program));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
