import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of the sibling workspace, not its build output.
    // The subpaths come first: an alias also matches imports that extend it.
    alias: {
      '@farm-agent/bot-config/lib': fileURLToPath(
        new URL('./bot-config/src/lib/index.ts', import.meta.url),
      ),
      '@farm-agent/bot-config/hook-server': fileURLToPath(
        new URL('./bot-config/src/hook-server.ts', import.meta.url),
      ),
      '@farm-agent/bot-config/bot-user': fileURLToPath(
        new URL('./bot-config/src/bot-user.ts', import.meta.url),
      ),
      '@farm-agent/bot-config': fileURLToPath(
        new URL('./bot-config/src/index.ts', import.meta.url),
      ),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes (python3, adb); two cores do not like eight of them at once.
    maxWorkers: 2,
    // `vitest run` runs both; `npm run test:unit` / `test:e2e` one (`--project`).
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['agent/src/**/*.test.ts', 'bot-config/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // The end-to-end tests start the farm-agent program from its build output.
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
