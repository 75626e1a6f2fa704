import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The program's path: as given when it holds a slash, else the first match on `path`. */
export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  if (program.includes('/')) return existsSync(program) ? program : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}
