// Where each cron sits in a definitions file (crons.json), read with jsonc-parser so that a file being edited
// (comments, a trailing comma, a half-typed value) still yields the crons that are there. Pure: no vscode.
import { parseTree, type Node } from 'jsonc-parser';

/** A cron object of the file: its name and where its object starts and ends (offsets in the text). */
export interface CronDefinitionSite {
  name: string;
  offset: number;
  length: number;
}

/** The crons with a string `name` in `text`'s top-level `crons` array, in file order. */
export function cronDefinitionSites(text: string): CronDefinitionSite[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const crons = root?.type === 'object' ? propertyValue(root, 'crons') : undefined;
  if (crons?.type !== 'array') return [];
  const sites: CronDefinitionSite[] = [];
  for (const item of crons.children ?? []) {
    if (item.type !== 'object') continue;
    const name = propertyValue(item, 'name');
    if (name?.type === 'string' && typeof name.value === 'string' && name.value) sites.push({ name: name.value, offset: item.offset, length: item.length });
  }
  return sites;
}

function propertyValue(object: Node, key: string): Node | undefined {
  for (const property of object.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (keyNode?.value === key) return valueNode;
  }
  return undefined;
}
