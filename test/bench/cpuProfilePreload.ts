// Preloaded into the server by serverProfile.ts (NODE_OPTIONS=--require; --cpu-prof itself is not allowed
// there): profiles the server's main thread from its start and writes the profile to
// CRON_OPS_CPU_PROFILE when it exits. Only for benchmarks: the server knows nothing of it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { isMainThread } from 'node:worker_threads';

const file = process.env.CRON_OPS_CPU_PROFILE;
if (file && isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // A same-thread session answers synchronously: the profile is in hand before the process is gone.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
