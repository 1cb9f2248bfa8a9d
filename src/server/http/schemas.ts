// The API's request and reply shapes as TypeBox schemas: Fastify validates requests and serializes replies
// with them, and the handlers' types come from them. Each reply schema is checked against the shared type
// in src/shared/api.ts (the `Same` assertions below), so the two cannot drift.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  CATCH_UP_MODES,
  CRON_NAME_PATTERN,
  EXECUTION_STATUSES,
  ROLES,
  SKIP_REASONS,
  TRIGGER_TYPES,
  type AuditEntry,
  type CreateTokenReply,
  type Cron,
  type ErrorReply,
  type Execution,
  type HealthReply,
  type LastSuccessfulRunReply,
  type LogsReply,
  type ScriptFileReply,
  type ScriptVersionReply,
  type SessionReply,
  type SkippedTicksReply,
  type Stats,
  type TimelineReply,
  type TokenInfo,
  type TriggerReply,
} from '../../shared/api';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));
/**
 * One of `values`, in a reply: a string enum, which the reply serializer (fast-json-stringify) writes as a
 * string. An anyOf of literals (as requests validate them, with their clearer errors) makes it compile an
 * ajv validator per place at the first reply that reaches it: the first crons list blocked the event loop
 * for 400 ms at load 9 (benchmark `reads`).
 */
const replyLiterals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
/**
 * A value or null. A schema of one JSON type becomes that type or "null" (`type: [t, "null"]`), which the
 * reply serializer (fast-json-stringify) writes with a null check; an anyOf makes it compile an ajv
 * validator per place at its first reply (400 ms of blocked event loop for the first crons list at load 9,
 * the ExecutionSchema of lastExecution compiled whole). Other schemas stay a union.
 */
const Nullable = <T extends TSchema>(schema: T) =>
  typeof schema.type === 'string' && schema.type !== 'null'
    ? Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...(schema.enum as unknown[]), null] } : {}) })
    : Type.Union([schema, Type.Null()]);

export const Status = literals(EXECUTION_STATUSES);
export const RoleSchema = literals(ROLES);
export const StatusReply = replyLiterals(EXECUTION_STATUSES);
const RoleReply = replyLiterals(ROLES);
export const CronName = Type.String({ pattern: CRON_NAME_PATTERN, maxLength: 63 });
export const TokenName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
export const Uuid = Type.String({ format: 'uuid' });
export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100 });
export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
export const NameParams = Type.Object({ name: Type.String({ maxLength: 100 }) });
// A type array, not an anyOf, for the reply serializer (see replyLiterals).
export const ParamValueSchema = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] });
// Values stay untyped here: a typed union would let the validator coerce 3 into "3". resolveParams checks them.
export const ParamsBody = Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 }));

export const ErrorReplySchema = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  message: Type.Optional(Type.String()),
  runningExecutionId: Type.Optional(Type.String()),
  retryAfterS: Type.Optional(Type.Number()),
  status: Type.Optional(StatusReply),
  cronName: Type.Optional(Type.String()),
});

const NextRetrySchema = Type.Object({ attempt: Type.Integer({ minimum: 2 }), of: Type.Integer({ minimum: 2 }), at: Type.String() });

export const ExecutionSchema = Type.Object({
  id: Type.String(),
  cronName: Type.String(),
  status: StatusReply,
  triggerType: replyLiterals(TRIGGER_TYPES),
  triggeredBy: Nullable(Type.String()),
  params: Type.Record(Type.String(), ParamValueSchema),
  startedAt: Type.String(),
  completedAt: Nullable(Type.String()),
  durationMs: Nullable(Type.Number()),
  exitCode: Nullable(Type.Number()),
  errorMessage: Nullable(Type.String()),
  runnerId: Nullable(Type.String()),
  stuck: Type.Boolean(),
  logLinesDropped: Type.Number(),
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  retryOf: Type.Optional(Nullable(Type.String())),
  retry: Type.Optional(Nullable(NextRetrySchema)),
  scriptVersion: Type.Optional(Nullable(Type.String())),
  gitCommit: Type.Optional(Nullable(Type.String())),
});

const ParamSpecSchema = Type.Object({
  type: replyLiterals(['integer', 'string', 'boolean'] as const),
  description: Type.Optional(Type.String()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  pattern: Type.Optional(Type.String()),
  default: Type.Optional(ParamValueSchema),
});

export const OverlapForecastSchema = Type.Object({
  status: replyLiterals(['overlap', 'ok', 'unknown'] as const),
  p95Ms: Nullable(Type.Number()),
  samples: Type.Integer(),
  shortestIntervalMs: Nullable(Type.Number()),
  shortestIntervalAt: Nullable(Type.String()),
  regular: Type.Boolean(),
  ticksConsidered: Type.Integer(),
  ticksSkipped: Type.Integer(),
  message: Nullable(Type.String()),
});

export const SkipReasonSchema = replyLiterals(SKIP_REASONS);

export const CronSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  schedule: Type.String(),
  scheduleText: Type.String(),
  timezone: Type.String(),
  command: Type.Array(Type.String()),
  estimatedDurationMs: Type.Number(),
  timeoutMs: Type.Number(),
  enabled: Type.Boolean(),
  paused: Type.Boolean(),
  params: Type.Record(Type.String(), ParamSpecSchema),
  nextRunAt: Nullable(Type.String()),
  lastExecution: Nullable(ExecutionSchema),
  runningExecution: Nullable(ExecutionSchema),
  manualTriggerAvailableAt: Type.Optional(Nullable(Type.String())),
  catchUp: Type.Optional(replyLiterals(CATCH_UP_MODES)),
  skippedTicks24h: Type.Optional(Type.Integer({ minimum: 0 })),
  overlap: Type.Optional(OverlapForecastSchema),
  pendingRetry: Type.Optional(Nullable(Type.Object({ retryOf: Type.String(), attempt: Type.Integer({ minimum: 2 }), of: Type.Integer({ minimum: 2 }), at: Type.String() }))),
});

export const SkippedTicksReplySchema = Type.Object({
  skippedTicks: Type.Array(
    Type.Object({
      cronName: Type.String(),
      tickAt: Type.String(),
      reason: SkipReasonSchema,
      runnerId: Type.String(),
      runningExecutionId: Nullable(Type.String()),
      recordedAt: Type.String(),
    }),
  ),
  nextCursor: Nullable(Type.String()),
});

export const CronsReplySchema = Type.Object({ crons: Type.Array(CronSchema) });
export const ExecutionsReplySchema = Type.Object({ executions: Type.Array(ExecutionSchema), nextCursor: Nullable(Type.String()) });

export const LogLineSchema = Type.Object({ seq: Type.Integer(), at: Type.String(), stream: replyLiterals(['stdout', 'stderr'] as const), line: Type.String() });
export const LogsReplySchema = Type.Object({ lines: Type.Array(LogLineSchema), done: Type.Boolean() });

export const TriggerReplySchema = Type.Object({
  success: Type.Literal(true),
  cronName: Type.String(),
  description: Type.String(),
  estimatedDuration: Type.Number(),
  executionId: Type.String(),
  message: Type.String(),
  note: Type.String(),
});

export const StatsSchema = Type.Object({
  executions24h: Type.Number(),
  running: Type.Number(),
  failures24h: Type.Number(),
  nextExecution: Nullable(Type.Object({ cronName: Type.String(), at: Type.String() })),
});

const TimelineEntrySchema = Type.Object({ id: Type.String(), cronName: Type.String(), status: StatusReply, startedAt: Type.String(), durationMs: Type.Number() });
const TimelineBucketSchema = Type.Object({
  cronName: Type.String(),
  status: StatusReply,
  start: Type.String(),
  end: Type.String(),
  count: Type.Number(),
  maxDurationMs: Type.Number(),
  p95DurationMs: Type.Number(),
});
export const TimelineReplySchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  executions: Type.Array(TimelineEntrySchema),
  buckets: Type.Optional(Type.Array(TimelineBucketSchema)),
  bucketMs: Type.Optional(Type.Number()),
  skipped: Type.Optional(Type.Array(Type.Object({ cronName: Type.String(), tickAt: Type.String(), reason: SkipReasonSchema }))),
  skippedTotal: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const HealthReplySchema = Type.Object({
  status: replyLiterals(['ok', 'degraded'] as const),
  version: Type.String(),
  store: replyLiterals(['sqlite', 'postgres'] as const),
  runnerId: Type.String(),
  uptimeS: Type.Number(),
  /** Why the server is degraded. */
  reason: Type.Optional(Type.String()),
  definitions: Type.Optional(
    Type.Object({
      path: Type.String(),
      valid: Type.Boolean(),
      loadedAt: Type.String(),
      problems: Type.Array(
        Type.Object({
          message: Type.String(),
          field: Type.Optional(Type.String()),
          line: Type.Optional(Type.Number()),
          column: Type.Optional(Type.Number()),
          length: Type.Optional(Type.Number()),
        }),
      ),
    }),
  ),
});

export const AuditEntrySchema = Type.Object({
  id: Type.Number(),
  at: Type.String(),
  actor: Type.String(),
  role: Nullable(replyLiterals([...ROLES, 'machine'] as const)),
  action: Type.String(),
  target: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  clientAddress: Nullable(Type.String()),
});
export const AuditReplySchema = Type.Object({ entries: Type.Array(AuditEntrySchema) });

export const SessionReplySchema = Type.Object({ name: Nullable(Type.String()), role: RoleReply });
export const TokenInfoSchema = Type.Object({
  name: Type.String(),
  role: RoleReply,
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});
export const TokensReplySchema = Type.Object({ tokens: Type.Array(TokenInfoSchema) });
export const CreateTokenReplySchema = Type.Object({ name: Type.String(), role: RoleReply, token: Type.String() });
export const RevokeTokenReplySchema = Type.Object({ success: Type.Literal(true), name: Type.String(), revokedAt: Type.String() });
export const RetentionReplySchema = Type.Object({ success: Type.Literal(true), deleted: Type.Number(), days: Type.Number(), auditDeleted: Type.Optional(Type.Number()) });

export const ScriptFileInfoSchema = Type.Object({
  path: Type.String(),
  size: Type.Number(),
  sha256: Nullable(Type.String()),
  skipped: Nullable(replyLiterals(['too-large', 'too-many-files'] as const)),
});
export const ScriptVersionReplySchema = Type.Object({
  executionId: Type.String(),
  cronName: Type.String(),
  scriptVersion: Nullable(Type.String()),
  gitCommit: Nullable(Type.String()),
  files: Type.Array(ScriptFileInfoSchema),
});
export const ScriptFileReplySchema = Type.Object({
  executionId: Type.String(),
  path: Type.String(),
  sha256: Type.String(),
  size: Type.Number(),
  encoding: replyLiterals(['utf8', 'base64'] as const),
  content: Type.String(),
});
export const LastSuccessfulRunReplySchema = Type.Object({ execution: Nullable(ExecutionSchema) });

/** The error statuses every authenticated route may answer. */
export const refusals = { 400: ErrorReplySchema, 401: ErrorReplySchema, 403: ErrorReplySchema, 500: ErrorReplySchema, 503: ErrorReplySchema } as const;

// Compile-time checks that each schema and its shared type describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<_T extends true>(): void {}
same<Same<Static<typeof ExecutionSchema>, Execution>>();
same<Same<Static<typeof CronSchema>, Cron>>();
same<Same<Static<typeof ErrorReplySchema>, ErrorReply>>();
same<Same<Static<typeof TriggerReplySchema>, TriggerReply>>();
same<Same<Static<typeof StatsSchema>, Stats>>();
same<Same<Static<typeof TimelineReplySchema>, TimelineReply>>();
same<Same<Static<typeof LogsReplySchema>, LogsReply>>();
same<Same<Static<typeof AuditEntrySchema>, AuditEntry>>();
same<Same<Static<typeof SessionReplySchema>, SessionReply>>();
same<Same<Static<typeof TokenInfoSchema>, TokenInfo>>();
same<Same<Static<typeof CreateTokenReplySchema>, CreateTokenReply>>();
same<Same<Static<typeof HealthReplySchema>, HealthReply>>();
same<Same<Static<typeof SkippedTicksReplySchema>, SkippedTicksReply>>();
same<Same<Static<typeof ScriptVersionReplySchema>, ScriptVersionReply>>();
same<Same<Static<typeof ScriptFileReplySchema>, ScriptFileReply>>();
same<Same<Static<typeof LastSuccessfulRunReplySchema>, LastSuccessfulRunReply>>();
