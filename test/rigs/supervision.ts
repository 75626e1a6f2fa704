/**
 * The restart and stop timings of a BotSupervisor under test: fast enough for a test run,
 * slow enough that a restart loop or a stop is seen happening. Tests spread it and override
 * only the timing they are about.
 */
export const TEST_SUPERVISION = {
  restartBackoff: { initialMs: 20, maxMs: 80, jitter: 0 },
  crashes: { max: 3, windowMs: 60_000 },
  stableAfterMs: 60_000,
  stopGraceMs: 2_000,
  terminatedRestartMs: 60_000,
};
