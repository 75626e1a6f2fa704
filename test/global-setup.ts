import { execFileSync } from 'node:child_process';

/**
 * End-to-end tests start the real `farm-agent` program from its build output,
 * so the build must be current even when vitest runs on its own.
 */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-b'], { stdio: 'inherit' });
}
