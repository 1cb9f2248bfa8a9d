// The scheduler baseline, run as its own process: the same croner schedules as the server's crons and the
// same command spawned on each tick, with no store. Prints, when done, each tick's lateness as JSON.
import { spawn } from 'node:child_process';
import { Cron } from 'croner';

const [schedulesJson, command, durationMs] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const schedules = JSON.parse(schedulesJson) as string[];
const ticks: Array<[scheduledMs: number, latenessMs: number]> = [];
const jobs = schedules.map(
  (schedule) =>
    new Cron(schedule, { timezone: 'UTC' }, (self: Cron) => {
      const now = Date.now();
      const scheduled = self.currentRun() ?? new Date(now);
      scheduled.setMilliseconds(0);
      ticks.push([scheduled.getTime(), now - scheduled.getTime()]);
      spawn(command, [], { stdio: 'ignore', detached: true }).on('error', () => undefined);
    }),
);
setTimeout(() => {
  for (const job of jobs) job.stop();
  process.stdout.write(JSON.stringify(ticks) + '\n', () => process.exit(0));
}, durationMs);
