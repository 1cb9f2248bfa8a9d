// At launch: which version of its scripts a run is about to start, read before the spawn (so it is the
// content that ran) within a time bound, then written to the store while the run goes on.
import type { Execution } from '../shared/api';
import type { CronDefinition } from './config';
import { errorText, type Logger } from './logger';
import { DEFAULT_SCRIPT_VERSION_LIMITS, type ScriptVersion, type ScriptVersionLimits } from './scriptVersion';
import { ScriptVersionCache } from './scriptVersionCache';
import type { ScriptVersionStore } from './store/scriptVersionStore';

export interface ScriptVersionRecorderOptions {
  /** The config's folder: the runs' working directory, where their scripts are looked for. */
  folder: string;
  store: Pick<ScriptVersionStore, 'record'>;
  log: Logger;
  limits?: ScriptVersionLimits;
  /** Past this the run starts without a version (a folder on a hung network mount must not hold it). */
  readTimeoutMs?: number;
}

const DEFAULT_READ_TIMEOUT_MS = 2_000;

export class ScriptVersionRecorder {
  /** Versions of unchanged scripts are not read again (scriptVersionCache.ts). */
  private readonly cache = new ScriptVersionCache();

  constructor(private readonly options: ScriptVersionRecorderOptions) {}

  /**
   * Reads the version `cron` launches (files capped in size and number, never more than the time bound),
   * then starts writing it on the execution. Resolves once the read is done, with the write under way:
   * the runner awaits the write before recording the run's end, so the end's event carries the version.
   * Never rejects: a version that cannot be read or stored is logged and the run goes on without one.
   */
  async beforeSpawn(execution: Execution, cron: CronDefinition): Promise<{ recorded: Promise<void> }> {
    const { log } = this.options;
    const ids = { cronName: cron.name, executionId: execution.id };
    const timeoutMs = this.options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs)));
    let version: ScriptVersion | 'timeout';
    try {
      version = await Promise.race([this.cache.version(cron.command, this.options.folder, this.options.limits ?? DEFAULT_SCRIPT_VERSION_LIMITS), timedOut]);
    } catch (error) {
      log.warn(`Could not read the script version of ${cron.name}: the run starts without one`, { ...ids, error: errorText(error) });
      return { recorded: Promise.resolve() };
    } finally {
      clearTimeout(timer);
    }
    if (version === 'timeout') {
      log.warn(`Reading the script version of ${cron.name} took over ${timeoutMs} ms: the run starts without one`, ids);
      return { recorded: Promise.resolve() };
    }
    for (const note of version.notes) log.info(`Script version of ${cron.name}: ${note}`, ids);
    if (version.hash === null && version.git === null) return { recorded: Promise.resolve() };
    log.debug(`Script version ${version.hash?.slice(0, 12) ?? 'none'}${version.git?.commit ? ` at git ${version.git.commit.slice(0, 12)}` : ''}`, ids);
    const recorded = this.options.store.record(execution.id, version).catch((error: unknown) => {
      log.warn(`Could not store the script version of ${cron.name}`, { ...ids, error: errorText(error) });
    });
    return { recorded };
  }
}
