import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Writes a zip holding `files` (archive path to text) with the real python3
 * zipfile module: the same writer and reader the Swarming bot relies on.
 */
export async function makeZip(zipPath: string, files: Record<string, string>): Promise<void> {
  const script = [
    'import json, sys, zipfile',
    'files = json.loads(sys.stdin.read())',
    "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:",
    '    for name, text in files.items():',
    '        z.writestr(name, text)',
  ].join('\n');
  const child = run('python3', ['-c', script, zipPath]);
  child.child.stdin?.end(JSON.stringify(files));
  await child;
}
