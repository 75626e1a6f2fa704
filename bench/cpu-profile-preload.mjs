// Preloaded into the agent by bench/idle-profile.ts: the first SIGWINCH starts V8's CPU profiler
// (4 ms samples: the default 1 ms costs more than the agent being measured), the second writes
// the profile to PROF_OUT (a .cpuprofile, for Chrome DevTools or any profile viewer).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let running = false;
process.on('SIGWINCH', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 4000 }, () =>
        session.post('Profiler.start'),
      ),
    );
    return;
  }
  running = false;
  session.post('Profiler.stop', (error, result) => {
    if (error === null)
      writeFileSync(process.env.PROF_OUT ?? 'idle.cpuprofile', JSON.stringify(result.profile));
  });
});
