// Every process of a run: its process group, and (on Linux) any descendant that left the group with
// setsid, found by the CRON_EXECUTION_ID it inherited or, when it cleared its environment, by its parent. Ends them as systemd ends a unit: SIGTERM, then
// SIGKILL after the grace period to whatever is left, even once the main process is gone.
// The scan of /proc (a few hundred small files) is what a run's end costs most: measured under the
// throughput load (test/bench/serverProfile.ts), one scan per run with fs.promises took half the server's
// main thread (~40 ms of CPU per scan, 10× the same reads done synchronously). So the running server
// shares one scan between every run that asks while it waits (50 runs ending together cost one scan, not
// 50), and reads synchronously in slices of SLICE_READS files with a turn of the event loop between two
// (~4 ms of CPU each: a /proc/PID/stat costs ~30 µs to read). Slices were 24 files at first; under the
// throughput load each turn given up costs every run waiting for the scan a whole turn of a busy loop
// (tens of ms on a loaded machine), so a machine with ~120 processes is now read in one slice. The
// start-up clean-up of orphans (endOrphan) reads it in one go.
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

/** Files read in one slice of a scan before the event loop gets a turn. */
const SLICE_READS = 128;

const yieldToLoop = () => new Promise<void>((resolveTurn) => setImmediate(resolveTurn));

interface ProcStat {
  parent: number;
  group: number;
  /** Clock ticks after boot: a descendant of the run cannot have started before its leader. */
  startTime: number;
}

/** Process group and start time of a live process (/proc/PID/stat, after the parenthesised name). */
function procStat(pid: number): ProcStat | undefined {
  return parseStat(readProc(pid, 'stat'));
}

function parseStat(stat: string | undefined): ProcStat | undefined {
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state: a zombie is already dead, only waiting to be reaped.
  if (fields[0] === 'Z') return undefined;
  return { parent: Number(fields[1]), group: Number(fields[2]), startTime: Number(fields[19]) };
}

/**
 * One look at /proc shared by every run that asked for it: each live process's stat, and its environ and
 * comm read once when some run needs them.
 */
class ProcScan {
  private reads = 0;
  private readonly environs = new Map<number, string | undefined>();
  private readonly comms = new Map<number, string>();

  private constructor(readonly stats: ReadonlyMap<number, ProcStat>) {}

  /** Undefined without /proc (not Linux). */
  static async take(): Promise<ProcScan | undefined> {
    let entries: string[];
    try {
      entries = readdirSync(PROC);
    } catch {
      return undefined;
    }
    const stats = new Map<number, ProcStat>();
    const scan = new ProcScan(stats);
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid) continue;
      const stat = parseStat(await scan.read(pid, 'stat'));
      if (stat !== undefined) stats.set(pid, stat);
    }
    return scan;
  }

  async environ(pid: number): Promise<string | undefined> {
    if (!this.environs.has(pid)) this.environs.set(pid, await this.read(pid, 'environ'));
    return this.environs.get(pid);
  }

  async comm(pid: number): Promise<string> {
    let comm = this.comms.get(pid);
    if (comm === undefined) {
      comm = ((await this.read(pid, 'comm')) ?? '?').trim();
      this.comms.set(pid, comm);
    }
    return comm;
  }

  /** A blocking read, with a turn of the event loop every SLICE_READS reads. */
  private async read(pid: number, file: string): Promise<string | undefined> {
    if (++this.reads % SLICE_READS === 0) await yieldToLoop();
    return readProc(pid, file);
  }
}

/** A scan asked for but not started: whoever asks now shares it. */
let nextScan: Promise<ProcScan | undefined> | undefined;
/** The scan under way, if any: the next one starts when it is done. */
let scanning: Promise<unknown> = Promise.resolve();

/**
 * A scan that starts after this call (it sees every process that exists now), shared with every other
 * caller until it starts.
 */
function freshScan(): Promise<ProcScan | undefined> {
  if (!nextScan) {
    const scan = scanning.then(() => {
      nextScan = undefined;
      return ProcScan.take();
    });
    nextScan = scan;
    scanning = scan.catch(() => undefined);
  }
  return nextScan;
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
  private termination: Promise<Termination> | undefined;
  /** The leader's start time, read while it lives: older processes are not looked into. */
  private readonly startTime: number;
  /** Descendants found by their parent (start time by pid): they stay the run's after re-parenting. */
  private readonly adopted = new Map<number, number>();

  constructor(
    /** The main process, leader of the run's process group (spawned detached). */
    readonly pid: number,
    private readonly executionId: string,
    private readonly killGraceMs: number,
    /** Known when the spawn helper read it; else read now (0 when already gone: no process is skipped). */
    startTime?: number,
  ) {
    this.startTime = startTime ?? procStat(pid)?.startTime ?? 0;
  }

  /** The run's live processes. Without /proc (not Linux), the group alone, as one entry if alive. */
  async processes(): Promise<RunProcess[]> {
    const scan = await freshScan();
    if (!scan) return this.groupAlone();
    const marker = `CRON_EXECUTION_ID=${this.executionId}`;
    const found: RunProcess[] = [];
    /** Young processes outside the group without the marker, by pid: their parent may still be ours. */
    const strangers = new Map<number, number>();
    // Stat first; environ only for a process as young as the leader outside its group; comm for what is kept.
    for (const [pid, stat] of scan.stats) {
      const inGroup = stat.group === this.pid;
      if (!inGroup && stat.startTime < this.startTime) continue;
      if (!inGroup && this.adopted.get(pid) !== stat.startTime && !hasMarker(await scan.environ(pid), marker)) {
        strangers.set(pid, stat.parent);
        continue;
      }
      found.push({ pid, name: await scan.comm(pid), inGroup });
    }
    // A descendant that left the group and cleared its environment (setsid env -i …) is still the child of
    // a process of the run while that one lives: follow the parent links too.
    const ours = new Set([this.pid, ...found.map((entry) => entry.pid)]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, parent] of strangers) {
        if (!ours.has(parent)) continue;
        strangers.delete(pid);
        ours.add(pid);
        // Still ours once its parent is gone and it is re-parented: known by pid and start time.
        this.adopted.set(pid, scan.stats.get(pid)!.startTime);
        found.push({ pid, name: await scan.comm(pid), inGroup: false });
        grew = true;
      }
    }
    return found.sort((a, b) => a.pid - b.pid);
  }

  /** The same scan, blocking: for endOrphan at start-up only. */
  processesSync(): RunProcess[] {
    let entries: string[];
    try {
      entries = readdirSync(PROC);
    } catch {
      return this.groupAlone();
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
      if (!inGroup && (stat.startTime < this.startTime || !hasMarker(readProc(pid, 'environ'), marker))) continue;
      found.push({ pid, name: (readProc(pid, 'comm') ?? '?').trim(), inGroup });
    }
    return found.sort((a, b) => a.pid - b.pid);
  }

  private groupAlone(): RunProcess[] {
    return signal(-this.pid, 0) ? [{ pid: this.pid, name: '(process group)', inGroup: true }] : [];
  }

  get terminating(): boolean {
    return this.termination !== undefined;
  }

  /** Waits for a termination in progress, if any. */
  async terminateIfStarted(): Promise<void> {
    await (await this.termination)?.done;
  }

  /**
   * SIGTERM to every process of the run now, SIGKILL to what is left after the grace period. Called again,
   * the same termination.
   */
  terminate(): Promise<Termination> {
    if (this.termination) return this.termination;
    this.termination = this.startTermination();
    return this.termination;
  }

  private async startTermination(): Promise<Termination> {
    const termed = await this.sendAll('SIGTERM');
    const done = new Promise<RunProcess[]>((resolveDone, rejectDone) => {
      const started = Date.now();
      const check = async () => {
        const left = await this.processes();
        if (left.length === 0) return resolveDone([]);
        if (Date.now() - started >= this.killGraceMs) return resolveDone(await this.sendAll('SIGKILL'));
        setTimeout(() => void check().catch(rejectDone), Math.min(100, Math.max(1, this.killGraceMs - (Date.now() - started))));
      };
      setTimeout(() => void check().catch(rejectDone), Math.min(50, this.killGraceMs));
    });
    return { termed, done };
  }

  private async sendAll(sig: NodeJS.Signals): Promise<RunProcess[]> {
    const targets = await this.processes();
    // The group first, in one call (a process forked meanwhile is in it too), then those who left it.
    signal(-this.pid, sig);
    for (const target of targets) if (!target.inGroup) signal(target.pid, sig);
    return targets;
  }
}

function hasMarker(environ: string | undefined, marker: string): boolean {
  return (environ ?? '').split('\0').includes(marker);
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
  const marked = (candidate: number) => hasMarker(readProc(candidate, 'environ'), marker);
  // A recorded pid may since belong to someone else: only processes naming the execution are ended.
  const leaderIsOurs = marked(pid);
  if (leaderIsOurs) signal(-pid, 'SIGKILL');
  const others = new ProcessTree(pid, executionId, 0).processesSync().filter((left) => left.pid !== pid && marked(left.pid));
  for (const left of others) signal(left.pid, 'SIGKILL');
  return leaderIsOurs || others.length > 0;
}

/**
 * After a crash, the processes of runs whose pid was never written (the server died within a turn of their
 * start: pids are written once per turn): found by the CRON_EXECUTION_ID they inherited, in one scan of
 * /proc for all of them, and killed. Returns the pids ended per execution. A process that cleared its
 * environment cannot be told apart and is left (said in the log by the caller).
 */
export function endOrphansByMarker(executionIds: readonly string[]): Map<string, number[]> {
  const ended = new Map<string, number[]>();
  if (executionIds.length === 0) return ended;
  const markers = new Map(executionIds.map((id) => [`CRON_EXECUTION_ID=${id}`, id]));
  let entries: string[];
  try {
    entries = readdirSync(PROC);
  } catch {
    return ended;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = readProc(pid, 'environ');
    if (!environ) continue;
    const id = environ
      .split('\0')
      .map((variable) => markers.get(variable))
      .find((known) => known !== undefined);
    if (id === undefined || !signal(pid, 'SIGKILL')) continue;
    ended.set(id, [...(ended.get(id) ?? []), pid]);
  }
  return ended;
}
