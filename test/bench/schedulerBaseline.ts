// The scheduler baseline, run as its own process: croner alone with the same schedules as the server's crons
// ("S * * * * *"), in the process's own time zone (croner's fast path: its `timezone` option formats dates
// through a new Intl object at every step, a cost the baseline should not carry), and the same command spawned
// on each tick, with no store. Prints "ready" once every job is armed; on SIGTERM, prints each tick as JSON:
// its scheduled second, and how late it was when croner called back and when spawn() had returned (the bare
// equivalent of the server's recorded start). With "timers" as its third argument, the call-back does no
// work at all: the timer wake-up lateness alone, what the machine gives any process at these instants.
import { spawn } from 'node:child_process';
import { Cron } from 'croner';

const [schedulesJson, command, mode] = [process.argv[2], process.argv[3], process.argv[4]];
const timersOnly = mode === 'timers';
const schedules = JSON.parse(schedulesJson) as string[];
const ticks: Array<[scheduledMs: number, firedLateMs: number, spawnedLateMs: number]> = [];

/**
 * The scheduled instant of a tick of second `second` called back at `nowMs`: the last whole second with that
 * second-of-minute (croner's currentRun() is the time of the call, so a call more than a second late would be
 * put on the wrong second).
 */
function scheduledBefore(second: number, nowMs: number): number {
  let at = Math.floor(nowMs / 1000) * 1000;
  for (let step = 0; step < 60 && Math.floor(at / 1000) % 60 !== second; step++) at -= 1000;
  return at;
}

const jobs = schedules.map((schedule) => {
  const second = Number(schedule.split(' ')[0]);
  return new Cron(schedule, () => {
    const fired = Date.now();
    const scheduled = scheduledBefore(second, fired);
    if (!timersOnly) spawn(command, [], { stdio: 'ignore', detached: true }).on('error', () => undefined);
    ticks.push([scheduled, fired - scheduled, Date.now() - scheduled]);
  });
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  for (const job of jobs) job.stop();
  process.stdout.write(JSON.stringify(ticks) + '\n', () => process.exit(0));
});
