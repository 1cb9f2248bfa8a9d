// Where a problem of the cron definitions file sits in its text: line and column (1-based, as editors show them)
// and a length, found with jsonc-parser's node offsets. Used for reload problems (log, /health, the event the
// extension turns into diagnostics). Pure: text in, positions out.
import { parse, parseTree, printParseErrorCode, type Node, type ParseError, type ParseErrorCode } from 'jsonc-parser';
import type { DefinitionProblem } from '../shared/events';

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index >= 0 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const SYNTAX_WORDS: Partial<Record<string, string>> = {
  InvalidSymbol: 'an unexpected character',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name in double quotes is expected here',
  ValueExpected: 'a value is expected here',
  ColonExpected: 'a colon (:) is expected here',
  CommaExpected: 'a comma (,) is expected here',
  CloseBraceExpected: 'a closing brace (}) is expected here',
  CloseBracketExpected: 'a closing bracket (]) is expected here',
  EndOfFileExpected: 'nothing may follow the top-level object',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'a string is not closed (missing ")',
  UnexpectedEndOfNumber: 'a number ends too early',
  InvalidUnicode: 'an invalid \\u escape',
  InvalidEscapeCharacter: 'an invalid escape (\\) in a string',
  InvalidCharacter: 'a control character inside a string (write it escaped, e.g. \\n)',
};

/**
 * Every syntax error of a text that is not strict JSON (trailing commas and comments are errors, as for
 * JSON.parse), each at its place; empty when jsonc-parser finds none (the caller keeps JSON.parse's message).
 */
export function syntaxProblems(text: string): DefinitionProblem[] {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const seen = new Set<number>();
  const problems: DefinitionProblem[] = [];
  for (const error of errors) {
    // jsonc-parser may report two errors at one place (e.g. "property name expected" and "value expected").
    if (seen.has(error.offset)) continue;
    seen.add(error.offset);
    const code = printParseErrorCode(error.error as ParseErrorCode);
    problems.push({ message: `not valid JSON: ${SYNTAX_WORDS[code] ?? code}`, ...lineColumn(text, error.offset), length: Math.max(1, error.length) });
  }
  return problems;
}

/** "crons[2].params.day.type" -> ["crons", 2, "params", "day", "type"]; "(top level)" -> []. */
export function fieldPath(field: string): Array<string | number> {
  if (field === '(top level)' || field === '') return [];
  const path: Array<string | number> = [];
  for (const match of field.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) path.push(match[1] !== undefined ? Number(match[1]) : match[2]);
  return path;
}

/** The place of `field` in `text`: the property when it is there, else its nearest enclosing value's start. */
export function fieldLocation(text: string, field: string): Pick<DefinitionProblem, 'line' | 'column' | 'length'> | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return undefined;
  let node: Node = root;
  let complete = true;
  for (const segment of fieldPath(field)) {
    const next = child(node, segment);
    if (!next) {
      complete = false;
      break;
    }
    node = next;
  }
  const property = node.parent?.type === 'property' ? node.parent : undefined;
  const key = property?.children?.[0];
  let offset: number;
  let length: number;
  if (complete && property && node.type !== 'object' && node.type !== 'array') {
    // A wrong value or an unknown key with a plain value: the whole `"key": value`.
    offset = property.offset;
    length = property.length;
  } else if (key) {
    // An object that misses something, or a wrong object: its key, not a squiggle over many lines.
    offset = key.offset;
    length = key.length;
  } else {
    offset = node.offset;
    length = complete && node.type !== 'object' && node.type !== 'array' ? node.length : 1;
  }
  return { ...lineColumn(text, offset), length };
}

function child(node: Node, segment: string | number): Node | undefined {
  if (node.type === 'array' && typeof segment === 'number') return node.children?.[segment];
  if (node.type !== 'object') return undefined;
  for (const property of node.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (keyNode?.value === String(segment)) return valueNode;
  }
  return undefined;
}
