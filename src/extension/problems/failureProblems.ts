// From a failed run's stderr to the problems it raises in the workspace: one per place a trace passes through
// that is a workspace file (the first candidate that exists), the place where the error was raised first.
// Pure: no vscode; the caller says which files exist and turns these into diagnostics.
import type { Execution } from '../../shared/api';
import { english, type Translate } from '../format';
import { parseStackTraces, workspaceFrames, type PathMappingContext } from './stackFrames';

/** One problem to show: `line` and `column` are 0-based, as editors count. */
export interface FailureProblem {
  path: string;
  line: number;
  column: number;
  /** Where the underline ends on that line (the caller knows the line's length); column + 1 when unset. */
  endColumn?: number;
  message: string;
  /** True where the error was raised (an error); false for a caller on the way (a warning would do). */
  raisedHere: boolean;
  cronName: string;
  executionId: string;
}

/** At most this many problems per failed run: a deep trace through many files should not flood Problems. */
export const MAX_PROBLEMS_PER_RUN = 20;

/** The problems a failed run's stderr lines raise; `exists` says whether a candidate path is a workspace file. */
export function failureProblems(
  execution: Pick<Execution, 'id' | 'cronName'>,
  stderr: readonly string[],
  context: PathMappingContext,
  exists: (path: string) => boolean,
  t: Translate = english,
): FailureProblem[] {
  const problems: FailureProblem[] = [];
  const seen = new Set<string>();
  for (const mapped of workspaceFrames(parseStackTraces(stderr), context)) {
    const path = mapped.candidates.find(exists);
    if (!path) continue;
    const line = Math.max(0, mapped.frame.line - 1);
    const key = `${path}:${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const error = mapped.trace.message.split('\n')[0];
    const message =
      mapped.depth === 0
        ? t('{0} (cron {1}, run {2} failed)', error, execution.cronName, shortId(execution.id))
        : t('{0} raised below this call (cron {1}, run {2} failed)', error, execution.cronName, shortId(execution.id));
    problems.push({ path, line, column: Math.max(0, (mapped.frame.column ?? 1) - 1), message, raisedHere: mapped.depth === 0, cronName: execution.cronName, executionId: execution.id });
    if (problems.length >= MAX_PROBLEMS_PER_RUN) break;
  }
  return problems;
}

/** Every path a failed run's stderr may point to in the workspace: the caller checks which exist. */
export function candidatePaths(stderr: readonly string[], context: PathMappingContext): string[] {
  return [...new Set(workspaceFrames(parseStackTraces(stderr), context).flatMap((mapped) => mapped.candidates))];
}

/** The first 8 characters of an execution id: enough to tell runs apart in a message. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
