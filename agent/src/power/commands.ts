import { execFile } from 'node:child_process';

/**
 * Runs a program on the host and resolves with its output; rejects when it
 * cannot start, exits non-zero or outlives `timeoutMs`. Injected so tests
 * can stand in for `uhubctl` without root or a USB hub.
 */
export type CommandRunner = (
  file: string,
  args: readonly string[],
  timeoutMs: number,
) => Promise<string>;

export const execCommand: CommandRunner = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      // A hung uhubctl (a hub that stops answering) must not hold the lifecycle.
      { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) {
          // code: the exit status, or ENOENT when it is not installed; signal: killed at the timeout.
          const why = error.killed ? `no answer within ${timeoutMs} ms` : String(error.code);
          const output = `${stdout}${stderr}`.trim();
          reject(
            new Error(`${[file, ...args].join(' ')} failed (${why})${output && `: ${output}`}`),
          );
        } else {
          resolve(`${stdout}${stderr}`);
        }
      },
    );
  });
