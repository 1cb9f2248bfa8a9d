// Reads a failed run's stderr for the errors it reports and where (Node, Python and shell traces), and maps
// the server's paths to files of the workspace. Pure: no vscode, no file system; the caller checks which
// candidate exists and turns frames into diagnostics.
import { posix } from 'node:path';

export type TraceLanguage = 'node' | 'python' | 'shell';

/** One place in a trace. `line` and `column` are 1-based, as the runtimes print them. */
export interface StackFrame {
  /** The path as the server printed it; file:// URLs decoded to paths. */
  file: string;
  line: number;
  column?: number;
  function?: string;
  /** A runtime's own code (node:internal, <frozen runpy>, <anonymous>): never a workspace file. */
  internal: boolean;
}

/** One error and the frames it was raised through, innermost (where it was raised) first. */
export interface ErrorTrace {
  language: TraceLanguage;
  /** "TypeError: cannot read config", "foo: command not found"; several lines when the error's message has them. */
  message: string;
  frames: StackFrame[];
  /** Index in the input of the trace's first line, to point back into the log. */
  lineIndex: number;
}

// Node: "    at fn (/abs/x.js:12:5)", "    at async fn (file:///x.mjs:3:1)", "    at /abs/x.js:3:1"; a logged
// error's last frame may end with " {" when properties (such as [cause]) follow.
const NODE_FRAME = /^\s+at (?:async )?(?:(.+?) \((.+)\)|(.+?))(?: \{)?$/;
const NODE_LOCATION = /^(.*):(\d+):(\d+)$/;
// "Error: boom", "TypeError [ERR_X]: y", "[cause]: RangeError: z", "parse failed: SyntaxError: …", "Error".
const NODE_ERROR_HEAD = /(?:^|[\s:])(?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[[\w-]+\])?(?::|$)/;
const PYTHON_TRACEBACK = /^\s*Traceback \(most recent call last\):\s*$/;
const PYTHON_FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+))?\s*$/;
// bash: "/x/y.sh: line 7: foo: command not found"; dash (sh): "/x/y.sh: 7: foo: not found".
const BASH_ERROR = /^(.+?): line (\d+): (.+)$/;
const DASH_ERROR = /^(.+?): (\d+): (.+)$/;

/** Every error trace in `lines` (a run's stderr, one entry per line), in the order they appear. */
export function parseStackTraces(lines: readonly string[]): ErrorTrace[] {
  const traces: ErrorTrace[] = [];
  let index = 0;
  while (index < lines.length) {
    const next = readNodeTrace(lines, index) ?? readPythonTrace(lines, index) ?? readShellError(lines, index);
    if (next) {
      traces.push(next.trace);
      index = next.end;
    } else index++;
  }
  return traces;
}

interface Read {
  trace: ErrorTrace;
  /** Index of the first line after the trace. */
  end: number;
}

function nodeFrame(line: string): StackFrame | undefined {
  const match = NODE_FRAME.exec(line);
  if (!match) return undefined;
  const name = match[1];
  const location = NODE_LOCATION.exec(match[2] ?? match[3]);
  if (!location) return undefined; // "at Promise.all (index 0)", "at JSON.parse (<anonymous>)"
  const file = fromFileUrl(location[1]);
  if (file.startsWith('eval at ')) return undefined;
  const frame: StackFrame = { file, line: Number(location[2]), column: Number(location[3]), internal: isNodeInternal(file) };
  if (name) frame.function = name.replace(/^new /, '');
  return frame;
}

function isNodeInternal(file: string): boolean {
  return file.startsWith('node:') || file.startsWith('internal/') || file === '<anonymous>' || file === 'native';
}

/** Lines `start…` hold a Node stack when they begin with frames; its message is the error head above them. */
function readNodeTrace(lines: readonly string[], start: number): Read | undefined {
  if (!NODE_FRAME.test(lines[start]) || (start > 0 && NODE_FRAME.test(lines[start - 1]))) return undefined;
  const frames: StackFrame[] = [];
  let end = start;
  for (; end < lines.length; end++) {
    const frame = nodeFrame(lines[end]);
    if (frame) frames.push(frame);
    else if (!NODE_FRAME.test(lines[end])) break; // a frame without a location ("at Promise.all (index 0)") stays in the stack
  }
  if (frames.length === 0) return undefined;
  const head = nodeMessageStart(lines, start);
  const message = lines
    .slice(head, start)
    .join('\n')
    .replace(/^\s*\[cause\]:\s*/, '');
  return { trace: { language: 'node', message: message || '(no message)', frames, lineIndex: head }, end };
}

/**
 * Node prints the error's message (possibly several lines) right above its frames. Walk up to the line that
 * starts it ("Error: …"), stopping at a blank line or another stack; without one, the line just above.
 */
function nodeMessageStart(lines: readonly string[], firstFrame: number): number {
  const limit = Math.max(0, firstFrame - 20);
  for (let index = firstFrame - 1; index >= limit; index--) {
    const line = lines[index];
    if (line.trim() === '' || NODE_FRAME.test(line) || line.trim() === '}') break;
    if (NODE_ERROR_HEAD.test(line)) return index;
  }
  return firstFrame > 0 && lines[firstFrame - 1].trim() !== '' && !NODE_FRAME.test(lines[firstFrame - 1]) ? firstFrame - 1 : firstFrame;
}

function pythonFrame(line: string): StackFrame | undefined {
  const match = PYTHON_FRAME.exec(line);
  if (!match) return undefined;
  const file = match[1];
  const frame: StackFrame = { file, line: Number(match[2]), internal: file.startsWith('<') };
  if (match[3]) frame.function = match[3];
  return frame;
}

/**
 * "Traceback (most recent call last):", its "File …, line N, in fn" frames (each followed by the source line
 * and, since 3.11, a ^^^ marker), then the exception line. A SyntaxError has a frame without the header.
 */
function readPythonTrace(lines: readonly string[], start: number): Read | undefined {
  const hasHeader = PYTHON_TRACEBACK.test(lines[start]);
  if (!hasHeader && !pythonFrame(lines[start])) return undefined; // a SyntaxError (or a cut traceback) starts at a frame
  const frames: StackFrame[] = [];
  let index = hasHeader ? start + 1 : start;
  for (; index < lines.length; index++) {
    const line = lines[index];
    const frame = pythonFrame(line);
    if (frame) frames.push(frame);
    else if (/^\s+\S/.test(line)) continue; // source lines, ^^^ markers, "[Previous line repeated …]"
    else break;
  }
  if (frames.length === 0) return undefined;
  const message = index < lines.length && lines[index].trim() !== '' ? lines[index] : '(no message)';
  return { trace: { language: 'python', message, frames: frames.reverse(), lineIndex: start }, end: Math.min(index + 1, lines.length) };
}

function shellError(line: string): { frame: StackFrame; message: string } | undefined {
  const match = BASH_ERROR.exec(line) ?? DASH_ERROR.exec(line);
  if (!match) return undefined;
  const file = match[1];
  // "bash: line 1: …" comes from bash -c (no script file); a script path has a / or an extension.
  if (!file.includes('/') && !file.includes('.')) return undefined;
  if (/\s/.test(file) && !file.includes('/')) return undefined;
  return { frame: { file, line: Number(match[2]), internal: false }, message: match[3] };
}

/** One shell error per line; consecutive lines about the same place (a syntax error and its line) merge. */
function readShellError(lines: readonly string[], start: number): Read | undefined {
  const first = shellError(lines[start]);
  if (!first) return undefined;
  const messages = [first.message];
  let end = start + 1;
  for (; end < lines.length; end++) {
    const next = shellError(lines[end]);
    if (!next || next.frame.file !== first.frame.file || next.frame.line !== first.frame.line) break;
    messages.push(next.message);
  }
  return { trace: { language: 'shell', message: messages.join('\n'), frames: [first.frame], lineIndex: start }, end };
}

function fromFileUrl(location: string): string {
  if (!location.startsWith('file://')) return location;
  const path = decodeURIComponent(location.slice('file://'.length));
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path; // file:///C:/x -> C:/x
}

/** A workspace folder, by name and absolute path (forward slashes). */
export interface WorkspaceFolderRef {
  name: string;
  path: string;
}

export interface PathMappingContext {
  /** `cronOps.pathMappings`: server path prefix -> local folder (absolute, relative to the first workspace folder, or with ${workspaceFolder} / ${workspaceFolder:name}). */
  mappings: Readonly<Record<string, string>>;
  folders: readonly WorkspaceFolderRef[];
  /** The folder relative paths in a trace are relative to on the server (the config file's folder: the runner's cwd). */
  serverCwd?: string;
}

function toSlashes(path: string): string {
  return path.replace(/\\/g, '/');
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:\//.test(path);
}

function normalize(path: string): string {
  const normalized = posix.normalize(toSlashes(path));
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

function within(path: string, folder: string): string | undefined {
  const base = normalize(folder);
  if (path === base) return '';
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}

/** The local folders a mapping's target names: ${workspaceFolder[:name]} expanded, relative targets per folder. */
function mappingTargets(target: string, folders: readonly WorkspaceFolderRef[]): string[] {
  const named = /^\$\{workspaceFolder(?::([^}]+))?\}/.exec(target);
  if (named) {
    const folder = named[1] === undefined ? folders[0] : folders.find((candidate) => candidate.name === named[1]);
    return folder ? [normalize(folder.path + target.slice(named[0].length))] : [];
  }
  const slashed = toSlashes(target);
  if (isAbsolutePath(slashed)) return [normalize(slashed)];
  return folders.map((folder) => normalize(posix.join(toSlashes(folder.path), slashed)));
}

/**
 * Where a file the server names may be in the workspace, best first: through the longest matching
 * `cronOps.pathMappings` prefix (then shorter ones), then the path itself when it lies in a workspace folder.
 * Empty when neither applies: a file outside the workspace gets no diagnostic.
 */
export function candidateWorkspacePaths(serverPath: string, context: PathMappingContext): string[] {
  let path = toSlashes(serverPath);
  if (!isAbsolutePath(path)) {
    if (context.serverCwd === undefined) return [];
    path = posix.join(toSlashes(context.serverCwd), path);
  }
  path = normalize(path);
  const candidates: string[] = [];
  const prefixes = Object.keys(context.mappings).sort((a, b) => normalize(b).length - normalize(a).length);
  for (const prefix of prefixes) {
    const rest = within(path, prefix);
    if (rest === undefined) continue;
    for (const target of mappingTargets(context.mappings[prefix], context.folders)) candidates.push(rest ? `${target}/${rest}` : target);
  }
  if (context.folders.some((folder) => within(path, folder.path) !== undefined)) candidates.push(path);
  return [...new Set(candidates)];
}

/** A frame of a trace with where it may be in the workspace. */
export interface MappedFrame {
  trace: ErrorTrace;
  frame: StackFrame;
  /** Frame index in `trace.frames`: 0 is where the error was raised. */
  depth: number;
  candidates: string[];
}

/** The frames of `traces` that may be workspace files, with their candidates (internal frames left out). */
export function workspaceFrames(traces: readonly ErrorTrace[], context: PathMappingContext): MappedFrame[] {
  const mapped: MappedFrame[] = [];
  for (const trace of traces) {
    trace.frames.forEach((frame, depth) => {
      if (frame.internal) return;
      const candidates = candidateWorkspacePaths(frame.file, context);
      if (candidates.length > 0) mapped.push({ trace, frame, depth, candidates });
    });
  }
  return mapped;
}
