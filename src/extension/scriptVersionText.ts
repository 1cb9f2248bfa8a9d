// How a run's script version reads in a tooltip or a title: the short content hash and the git commit.
import type { Execution } from '../shared/api';
import type { Translate } from './format';

/** The first characters of a version hash: enough to tell versions apart at a glance. */
export function shortVersion(hash: string): string {
  return hash.slice(0, 8);
}

/** "Script version 1a2b3c4d · git 9f8e7d6"; undefined when the run recorded neither. */
export function scriptVersionText(execution: Pick<Execution, 'scriptVersion' | 'gitCommit'>, translate: Translate): string | undefined {
  const parts: string[] = [];
  if (execution.scriptVersion) parts.push(translate('Script version {0}', shortVersion(execution.scriptVersion)));
  if (execution.gitCommit) parts.push(translate('git {0}', execution.gitCommit.slice(0, 7)));
  return parts.length > 0 ? parts.join(' · ') : undefined;
}
