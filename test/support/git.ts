// The real `git` CLI for tests, isolated from the machine's config and with a fixed identity for commits.
import { execFileSync } from 'node:child_process';

export const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Cron Ops Test',
  GIT_AUTHOR_EMAIL: 'test@cron-ops.invalid',
  GIT_COMMITTER_NAME: 'Cron Ops Test',
  GIT_COMMITTER_EMAIL: 'test@cron-ops.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}
