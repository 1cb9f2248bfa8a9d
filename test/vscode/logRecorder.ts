// Records what each log tail writes, from the extension's own events: the channel's text and the server lines.
import type * as vscode from 'vscode';
import type { LogTail, LogTails } from '../../src/extension/logTail';
import type { LogLine } from '../../src/shared/api';

export interface TailRecord {
  tail: LogTail;
  /** The channel's text so far, one "\n" after each line. */
  text: string;
  lines: LogLine[];
}

export class LogRecorder implements vscode.Disposable {
  private readonly records = new Map<string, TailRecord>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(tails: LogTails) {
    this.subscriptions = [
      tails.onDidOpen((tail) => {
        const record: TailRecord = { tail, text: '', lines: [] };
        this.records.set(tail.executionId, record);
        this.subscriptions.push(
          tail.onDidAppend((line) => (record.text += line + '\n')),
          tail.onDidReceive((line) => record.lines.push(line)),
        );
      }),
    ];
  }

  /** What the tail of an execution has written so far (the tail must have been opened). */
  record(executionId: string): TailRecord {
    const record = this.records.get(executionId);
    if (!record) throw new Error(`no log tail was opened for ${executionId}`);
    return record;
  }

  /** What the tail of an execution wrote, once it has ended. */
  async finished(executionId: string): Promise<TailRecord> {
    const record = this.records.get(executionId);
    if (!record) throw new Error(`no log tail was opened for ${executionId}`);
    await record.tail.finished;
    return record;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
