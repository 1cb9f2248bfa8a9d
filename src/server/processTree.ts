// Every process of a run: its process group, and (on Linux) any descendant that left the group with
// setsid, found by the CRON_EXECUTION_ID it inherited. Ends them as systemd ends a unit: SIGTERM, then
// SIGKILL after the grace period to whatever is left, even once the main process is gone.
import { readdirSync, readFileSync } from 'node:fs';

export interface RunProcess {
  pid: number;
  /** The program name (/proc/PID/comm), for the log line saying what was signalled. */
  name: string;
  /** False when it left the run's process group (setsid). */
  inGroup: boolean;
}

export interface Termination {
  /** What got SIGTERM. */
  termed: RunProcess[];
  /** Resolves once nothing of the run is left (or the SIGKILL was sent), with what got SIGKILL. */
  done: Promise<RunProcess[]>;
}

const PROC = '/proc';

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`${PROC}/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

interface ProcStat {
  group: number;
  /** Clock ticks after boot: a descendant of the run cannot have started before its leader. */
  startTime: number;
}

/** Process group and start time of a live process (/proc/PID/stat, after the parenthesised name). */
function procStat(pid: number): ProcStat | undefined {
  const stat = readProc(pid, 'stat');
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state: a zombie is already dead, only waiting to be reaped.
  if (fields[0] === 'Z') return undefined;
  return { group: Number(fields[2]), startTime: Number(fields[19]) };
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export class ProcessTree {
  private termination: Termination | undefined;
  /** The leader's start time, read while it lives: older processes are not looked into. */
  private readonly startTime: number;

  constructor(
    /** The main process, leader of the run's process group (spawned detached). */
    readonly pid: number,
    private readonly executionId: string,
    private readonly killGraceMs: number,
  ) {
    this.startTime = procStat(pid)?.startTime ?? 0;
  }

  /** The run's live processes. Without /proc (not Linux), the group alone, as one entry if alive. */
  processes(): RunProcess[] {
    let entries: string[];
    try {
      entries = readdirSync(PROC);
    } catch {
      return signal(-this.pid, 0) ? [{ pid: this.pid, name: '(process group)', inGroup: true }] : [];
    }
    const marker = `CRON_EXECUTION_ID=${this.executionId}`;
    const found: RunProcess[] = [];
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid) continue;
      const stat = procStat(pid);
      if (stat === undefined) continue;
      const inGroup = stat.group === this.pid;
      if (!inGroup && (stat.startTime < this.startTime || !(readProc(pid, 'environ') ?? '').split('\0').includes(marker))) continue;
      found.push({ pid, name: (readProc(pid, 'comm') ?? '?').trim(), inGroup });
    }
    return found.sort((a, b) => a.pid - b.pid);
  }

  get terminating(): boolean {
    return this.termination !== undefined;
  }

  /** Waits for a termination in progress, if any. */
  async terminateIfStarted(): Promise<void> {
    await this.termination?.done;
  }

  /** SIGTERM to every process of the run now, SIGKILL to what is left after the grace period. */
  terminate(): Termination {
    if (this.termination) return this.termination;
    const termed = this.sendAll('SIGTERM');
    const done = new Promise<RunProcess[]>((resolveDone) => {
      const started = Date.now();
      const check = () => {
        const left = this.processes();
        if (left.length === 0) return resolveDone([]);
        if (Date.now() - started >= this.killGraceMs) return resolveDone(this.sendAll('SIGKILL'));
        setTimeout(check, Math.min(100, Math.max(1, this.killGraceMs - (Date.now() - started))));
      };
      setTimeout(check, Math.min(50, this.killGraceMs));
    });
    this.termination = { termed, done };
    return this.termination;
  }

  private sendAll(sig: NodeJS.Signals): RunProcess[] {
    const targets = this.processes();
    // The group first, in one call (a process forked meanwhile is in it too), then those who left it.
    signal(-this.pid, sig);
    for (const target of targets) if (!target.inGroup) signal(target.pid, sig);
    return targets;
  }
}

/** "123 sleep, 130 node (left the process group)" for a log line or an error message. */
export function describeProcesses(processes: RunProcess[]): string {
  return processes.map((p) => `${p.pid} ${p.name}${p.inGroup ? '' : ' (left the process group)'}`).join(', ');
}

/**
 * After a crash the children live on in their own process groups. End a group only if its leader is still
 * the same run: on Linux its environment names the execution (elsewhere nothing is killed).
 */
export function endOrphan(pid: number, executionId: string): boolean {
  const marker = `CRON_EXECUTION_ID=${executionId}`;
  const marked = (candidate: number) => (readProc(candidate, 'environ') ?? '').split('\0').includes(marker);
  // A recorded pid may since belong to someone else: only processes naming the execution are ended.
  const leaderIsOurs = marked(pid);
  if (leaderIsOurs) signal(-pid, 'SIGKILL');
  const others = new ProcessTree(pid, executionId, 0).processes().filter((left) => left.pid !== pid && marked(left.pid));
  for (const left of others) signal(left.pid, 'SIGKILL');
  return leaderIsOurs || others.length > 0;
}
