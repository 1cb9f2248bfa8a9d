import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { ENGLISH_STRINGS } from '../../../src/shared/dashboardStrings';

// The compiled test runs from out/…: walk up to the repository.
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'src/extension')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const root = repositoryRoot();
const extensionDir = join(root, 'src/extension');

/** Every literal passed to t(…), vscode.l10n.t(…) or this.translate(…) in src/extension and its folders (the page's own strings are below). */
function translatedStrings(): Set<string> {
  const found = new Set<string>();
  for (const file of readdirSync(extensionDir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(extensionDir, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        const callee = node.expression;
        const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
        if (name === 't' || name === 'translate') found.add(node.arguments[0].text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function placeholders(text: string): string[] {
  return [...new Set(text.match(/\{\d+\}/g) ?? [])].sort();
}

describe('French translations', () => {
  it('cover every user-facing string of the extension, with the same placeholders', () => {
    const bundle = JSON.parse(readFileSync(join(root, 'media/l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const strings = translatedStrings();
    assert.ok(strings.size > 100, `found only ${strings.size} strings`);
    const missing = [...strings].filter((text) => !(text in bundle));
    assert.deepEqual(missing, [], 'add these to media/l10n/bundle.l10n.fr.json');
    for (const text of strings) assert.deepEqual(placeholders(bundle[text]), placeholders(text), text);
  }).timeout(30_000); // parses every source file with TypeScript: seconds on a loaded machine

  it('cover every string of the dashboard (sent through vscode.l10n.t), with the same placeholders', () => {
    const bundle = JSON.parse(readFileSync(join(root, 'media/l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const strings = Object.values(ENGLISH_STRINGS);
    const missing = strings.filter((text) => !(text in bundle));
    assert.deepEqual(missing, [], 'add these to media/l10n/bundle.l10n.fr.json');
    for (const text of strings) assert.deepEqual(placeholders(bundle[text]), placeholders(text), text);
  });

  it('cover every key of package.nls.json', () => {
    const english = JSON.parse(readFileSync(join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const french = JSON.parse(readFileSync(join(root, 'package.nls.fr.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(french).sort(), Object.keys(english).sort());
    const manifest = readFileSync(join(root, 'package.json'), 'utf8');
    for (const [, key] of manifest.matchAll(/"%([^%"]+)%"/g)) assert.ok(key in english, `package.json uses %${key}% missing from package.nls.json`);
  });
});
