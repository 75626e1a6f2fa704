import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of the sibling workspace, not its build output.
    alias: {
      '@farm-agent/bot-config': fileURLToPath(
        new URL('./bot-config/src/index.ts', import.meta.url),
      ),
    },
  },
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['agent/src/**/*.test.ts', 'bot-config/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes (python3, adb); two cores do not like eight of them at once.
    maxWorkers: 2,
  },
});
