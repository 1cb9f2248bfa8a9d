// Trigger Cron… and Trigger and Follow Logs: pick, refuse a running cron up front, ask for params, confirm,
// call the API and turn the reply into a notification (runNotifications.ts says how the run ended).
import * as vscode from 'vscode';
import type { Cron, ParamValue, TriggerReply } from '../shared/api';
import { ApiError } from './apiClient';
import { showFailure } from './errorNotifications';
import { manualTriggerBlockedUntil } from '../shared/timing';
import type { Clock } from './clock';
import { formatDuration, formatTimeLeft, timeSince } from './format';
import { displayLanguage, t } from './l10n';
import type { Logger } from './logger';
import type { LogTails } from './logTail';
import { parseParamInput, paramPrompt } from './paramValidation';
import { resolveCron } from './pickers';
import type { ServerConnection, Servers } from './servers';
import { innerArg, type ServerScopedArg } from './serverTarget';
import type { Settings } from './settings';

/** Options a caller may pass as the second argument (tests, the dashboard). */
export interface TriggerOptions {
  /** Params to send as given, instead of asking. */
  params?: Record<string, ParamValue>;
  /** Skip the up-front "already running" check and let the server decide (default false). */
  skipRunningCheck?: boolean;
  /** The server to trigger on (id, name or URL), when the first argument is a plain cron name. */
  server?: string;
}

export type TriggerOutcome =
  | { kind: 'started'; reply: TriggerReply }
  | { kind: 'alreadyRunning'; runningExecutionId: string }
  /** Refused by the server, or up front (`upFront`) when the state already knows the server would refuse. */
  | { kind: 'refused'; status: number | undefined; message: string; retryAfterS?: number; runningExecutionId?: string; upFront?: boolean }
  | { kind: 'cancelled' };

const MAX_STARTED_HERE = 1000;

export class TriggerCommands implements vscode.Disposable {
  /** Runs started from this window ("mine" for cronOps.notify). */
  private readonly mine = new Set<string>();

  constructor(
    private readonly servers: Servers,
    private readonly settings: Settings,
    private readonly tails: LogTails,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** The ids of the runs triggered from this window. */
  get startedHere(): ReadonlySet<string> {
    return this.mine;
  }

  async trigger(arg: unknown, follow: boolean, options: TriggerOptions = {}): Promise<TriggerOutcome> {
    const scoped: unknown = options.server !== undefined && typeof arg === 'string' ? ({ server: options.server, cronName: arg } satisfies ServerScopedArg) : arg;
    const server = await this.servers.forCron(scoped);
    if (!server) return { kind: 'cancelled' };
    return this.triggerOn(server, innerArg(scoped), follow, options);
  }

  private async triggerOn(server: ServerConnection, arg: unknown, follow: boolean, options: TriggerOptions): Promise<TriggerOutcome> {
    const { state, client } = server;
    const on = this.servers.several ? ` (${server.name})` : '';
    const name = await resolveCron(arg, state, follow ? t('Trigger which cron and follow its logs?') : t('Trigger which cron?'));
    if (!name) return { kind: 'cancelled' };
    const cron = state.cron(name);
    const locale = displayLanguage();
    const now = this.clock.now();

    // Refusals the state already knows come before any question.
    // Only a known viewer is refused here; an unknown role (session not answered yet) is left to the server.
    if (state.role === 'viewer') {
      const message = t('Your token\'s role ({0}) can see runs but not trigger them. Ask for an admin token, then run "Cron Ops: Sign In".', state.role ?? '');
      this.log.warn(`${name}${on} not triggered: role ${state.role}`);
      void vscode.window.showWarningMessage(message);
      return { kind: 'refused', status: 403, message, upFront: true };
    }
    const running = cron?.runningExecution;
    if (running && !options.skipRunningCheck) {
      this.log.warn(`Cron ${name} is already running (${running.id}): not triggered`);
      const showLogs = t('Show Logs');
      void vscode.window
        .showWarningMessage(t('{0} is already running (started {1}, estimated {2}). Wait for it to end, or cancel it.', name, timeSince(running.startedAt, now, locale), formatDuration(cron.estimatedDurationMs, locale)), showLogs)
        .then((picked) => picked === showLogs && vscode.commands.executeCommand('cronOps.showLogs', { server: server.id, executionId: running.id }));
      return { kind: 'alreadyRunning', runningExecutionId: running.id };
    }
    const blockedUntil = cron ? manualTriggerBlockedUntil(cron, now) : undefined;
    if (blockedUntil !== undefined && !options.skipRunningCheck) {
      const retryAfterS = Math.ceil((blockedUntil - now) / 1000);
      const message = t('{0} can be triggered again in {1} (limit on manual runs).', name, formatTimeLeft(blockedUntil - now, locale));
      this.log.warn(`Rate limit for ${name}: retry in ${retryAfterS} s (known before asking)`);
      void vscode.window.showWarningMessage(message);
      return { kind: 'refused', status: 429, message, retryAfterS, upFront: true };
    }

    const params = options.params ?? (cron ? await this.askParams(cron) : {});
    if (!params) return { kind: 'cancelled' };
    if (this.settings.confirmBeforeTrigger && !(await this.confirm(this.servers.several ? t('Run {0} on {1} now?', name, server.name) : t('Run {0} now?', name), cron, params))) return { kind: 'cancelled' };

    this.log.info(`Parameters for ${name}: ${JSON.stringify(params)}`);
    try {
      const reply = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: t('Triggering {0}…', name) },
        () => client.trigger(name, params),
      );
      this.mine.add(reply.executionId);
      // Kept after the run ends (its retries are mine too); the oldest go first past a bound.
      if (this.mine.size > MAX_STARTED_HERE) this.mine.delete(this.mine.values().next().value!);
      // The rate limits moved: a reload brings when this cron may be triggered by hand again (refused up front then).
      void state.refresh();
      this.log.info(`✅ Cron ${name}${on} triggered successfully (execution ${reply.executionId})`);
      if (follow) await this.tails.open(reply.executionId, true, server);
      const showLogs = t('Show Logs');
      void vscode.window
        .showInformationMessage(t('{0} started (estimated {1}).', name, formatDuration(reply.estimatedDuration, locale)), ...(follow ? [] : [showLogs]))
        .then((picked) => picked === showLogs && vscode.commands.executeCommand('cronOps.showLogs', { server: server.id, executionId: reply.executionId }));
      return { kind: 'started', reply };
    } catch (error) {
      return this.refused(error, name, server);
    }
  }

  private refused(error: unknown, name: string, server: ServerConnection): TriggerOutcome {
    if (!(error instanceof ApiError)) {
      showFailure(error, this.log, `Trigger ${name}`);
      return { kind: 'refused', status: undefined, message: String(error) };
    }
    const outcome: TriggerOutcome = { kind: 'refused', status: error.status, message: error.message, retryAfterS: error.reply?.retryAfterS, runningExecutionId: error.reply?.runningExecutionId };
    const runningId = error.reply?.runningExecutionId;
    if (error.status === 409 && runningId) {
      this.log.warn(`Cron ${name} is already running (${runningId})`);
      const showRunning = t('Show Running Execution');
      void vscode.window.showWarningMessage(error.message, showRunning).then((picked) => picked === showRunning && vscode.commands.executeCommand('cronOps.showLogs', { server: server.id, executionId: runningId }));
      return outcome;
    }
    if (error.status === 429) {
      this.log.warn(`Rate limit for ${name}: retry in ${error.reply?.retryAfterS ?? '?'} s`);
      void vscode.window.showWarningMessage(error.message);
      return outcome;
    }
    showFailure(error, this.log, `Trigger ${name}`);
    return outcome;
  }

  /** One input per declared param, checked as the server will; undefined when the user gives up. */
  private async askParams(cron: Cron): Promise<Record<string, ParamValue> | undefined> {
    const params: Record<string, ParamValue> = {};
    const entries = Object.entries(cron.params);
    for (const [index, [name, spec]] of entries.entries()) {
      const title = t('{0}: param {1} of {2}', cron.name, index + 1, entries.length);
      if (spec.type === 'boolean') {
        const items = [
          { label: 'true', value: true as boolean | undefined },
          { label: 'false', value: false as boolean | undefined },
        ];
        if (spec.default !== undefined) items.unshift({ label: t('default ({0})', String(spec.default)), value: undefined });
        const picked = await vscode.window.showQuickPick(items, { title, placeHolder: paramPrompt(name, spec, t), ignoreFocusOut: true });
        if (!picked) return undefined;
        if (picked.value !== undefined) params[name] = picked.value;
        continue;
      }
      const text = await vscode.window.showInputBox({
        title,
        prompt: paramPrompt(name, spec, t),
        placeHolder: spec.default !== undefined ? String(spec.default) : undefined,
        ignoreFocusOut: true,
        validateInput: (value) => {
          const parsed = parseParamInput(name, spec, value, t);
          return parsed.kind === 'problem' ? parsed.message : undefined;
        },
      });
      if (text === undefined) return undefined;
      const parsed = parseParamInput(name, spec, text, t);
      if (parsed.kind === 'value') params[name] = parsed.value;
    }
    return params;
  }

  private async confirm(question: string, cron: Cron | undefined, params: Record<string, ParamValue>): Promise<boolean> {
    const run = t('Run');
    const details = [cron?.description, cron ? t('Estimated duration: {0}', formatDuration(cron.estimatedDurationMs, displayLanguage())) : undefined, Object.keys(params).length ? t('Params: {0}', JSON.stringify(params)) : undefined];
    const picked = await vscode.window.showWarningMessage(question, { modal: true, detail: details.filter(Boolean).join('\n') }, run);
    return picked === run;
  }

  dispose(): void {
    this.mine.clear();
  }
}

export function registerTriggerCommands(
  context: vscode.ExtensionContext,
  deps: { servers: Servers; settings: Settings; tails: LogTails; log: Logger; clock: Clock },
): TriggerCommands {
  const commands = new TriggerCommands(deps.servers, deps.settings, deps.tails, deps.log.child('Manual Trigger'), deps.clock);
  context.subscriptions.push(
    commands,
    vscode.commands.registerCommand('cronOps.triggerCron', (arg?: unknown, options?: unknown) => commands.trigger(arg, false, asOptions(options))),
    vscode.commands.registerCommand('cronOps.triggerAndFollow', (arg?: unknown, options?: unknown) => commands.trigger(arg, true, asOptions(options))),
  );
  return commands;
}

// A tree menu passes the selected nodes as the second argument: only a plain object is options.
function asOptions(value: unknown): TriggerOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as TriggerOptions) : {};
}
