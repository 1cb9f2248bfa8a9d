// The timeline route's reply: the runs of the range (ExecutionStore.timeline) and its skipped ticks, read
// together wherever the timeline is read (the worker thread, or the store itself).
import type { TimelineReply } from '../../shared/api';
import type { ExecutionStore, TimelineQuery } from './executionStore';
import type { SkippedTickStore } from './skippedTickStore';

export async function timelineReply(executions: ExecutionStore, skipped: SkippedTickStore, query: TimelineQuery): Promise<TimelineReply> {
  const reply = await executions.timeline(query);
  // Skipped ticks are not runs: a status filter shows runs of that status only.
  if (query.status) return { ...reply, skipped: [], skippedTotal: 0 };
  const ticks = await skipped.inRange(Date.parse(reply.from), Date.parse(reply.to), query.cronName);
  return { ...reply, skipped: ticks.skipped, skippedTotal: ticks.total };
}
