// media/crons.schema.json is what VS Code checks an open crons.json against: it must accept every file the
// server runs (the demo first) and reject bad ones with an error on the field at fault, as the server does.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ConfigError, parseConfig } from '../../../src/server/config';

// The compiled test runs from out/…: walk up to the repository.
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'media/crons.schema.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const root = repositoryRoot();
type SchemaNode = Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(root, 'media/crons.schema.json'), 'utf8')) as SchemaNode;

// Keywords of VS Code's JSON language service; ajv in strict mode refuses keywords it does not know.
const VSCODE_KEYWORDS = ['markdownDescription', 'patternErrorMessage', 'errorMessage', 'defaultSnippets', 'enumDescriptions', 'markdownEnumDescriptions'];

function compile(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(VSCODE_KEYWORDS);
  return ajv.compile(schema);
}

const validate = compile();

/** An ajv error as the server words its fields: "crons[0].params.batchSize.type". */
function fieldOf(error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = (error.params as { missingProperty?: string; additionalProperty?: string; propertyName?: string });
  const last = extra.missingProperty ?? extra.additionalProperty ?? extra.propertyName;
  if (last !== undefined) parts.push(last);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function schemaFields(document: unknown): string[] {
  if (validate(document)) return [];
  // ajv adds an "if" summary beside the "then" error, and a propertyNames error (which names the key) beside
  // the pattern error inside it (which does not): keep one error per problem, the one naming the field.
  const errors = (validate.errors ?? []).filter((error) => error.keyword !== 'if' && !error.schemaPath.includes('/propertyNames/'));
  return [...new Set(errors.map(fieldOf))];
}

function serverFields(document: unknown): string[] {
  try {
    parseConfig(JSON.stringify(document), '/srv/cron-ops/crons.json');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => problem.replace(/^\/srv\/cron-ops\/crons\.json: /, '').split(': ')[0]);
  }
}

type CronEntry = Record<string, unknown>;
const aCron = (overrides: CronEntry = {}): CronEntry => ({
  name: 'index-kb-progressive',
  description: 'Indexation KB Progressive',
  schedule: '*/5 * * * *',
  timezone: 'Africa/Tunis',
  command: ['node', 'scripts/index-kb-progressive.mjs'],
  estimatedDurationMs: 45000,
  timeoutMs: 240000,
  enabled: true,
  params: { batchSize: { type: 'integer', min: 1, max: 50, default: 2 } },
  ...overrides,
});
const aFile = (cron: CronEntry = aCron(), top: Record<string, unknown> = {}) => ({ crons: [cron], ...top });

describe('crons.schema.json', () => {
  it('accepts the demo crons.json the server ships', () => {
    const demo = JSON.parse(readFileSync(join(root, 'src/server/demo/crons.json'), 'utf8'));
    assert.deepEqual(schemaFields(demo), []);
  });

  it('accepts the README example, with every top-level setting', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Cron definitions'));
    const example = /```json\n([\s\S]*?)```/.exec(section);
    assert.ok(example, 'README has a JSON example under "Cron definitions"');
    const document = JSON.parse(example[1]);
    assert.deepEqual(schemaFields(document), []);
    for (const key of ['rateLimits', 'retentionDays', 'port', 'host', 'maxLogLinesPerExecution', 'killGraceMs']) assert.ok(key in document, key);
  });

  it('accepts what the server accepts: minimal crons, 6-field schedules, time zone links, $schema, runOn', () => {
    const files = [
      { crons: [] },
      aFile({ name: 'a', schedule: '0 8 * * *', command: ['./job.sh'] }),
      aFile(aCron({ schedule: '*/10 * * * * *', timezone: 'UTC' })),
      aFile(aCron({ schedule: '0 2 * * MON-FRI', timezone: 'Asia/Kolkata' })),
      aFile(aCron({ timezone: 'Europe/Kyiv', runOn: ['host-a', 'host-b'] })),
      aFile(aCron({ params: { dryRun: { type: 'boolean', default: false }, label: { type: 'string', pattern: '^[a-z]+$', min: 1, max: 20, default: 'abc', description: 'Label' } } })),
      { $schema: './node_modules/cron-ops/media/crons.schema.json', ...aFile() },
    ];
    for (const file of files) {
      assert.deepEqual(schemaFields(file), [], JSON.stringify(file));
      assert.deepEqual(serverFields(file), [], `the server accepts ${JSON.stringify(file)}`);
    }
  });

  it('accepts empty-string arguments (argv may hold them) but not a blank program', () => {
    assert.deepEqual(schemaFields(aFile(aCron({ command: ['grep', '', 'file.txt'] }))), []);
    assert.deepEqual(schemaFields(aFile(aCron({ command: ['', 'x'] }))), ['crons[0].command[0]']);
    assert.deepEqual(schemaFields(aFile(aCron({ command: ['  '] }))), ['crons[0].command[0]']);
  });

  // Each bad file: the field the schema blames, and the field the server blames for the same file.
  const badFiles: Array<{ what: string; file: unknown; schemaField: string; serverField?: string }> = [
    { what: 'no crons', file: {}, schemaField: 'crons' },
    { what: 'crons not an array', file: { crons: {} }, schemaField: 'crons' },
    { what: 'upper case and _ in a name', file: aFile(aCron({ name: 'Index_KB' })), schemaField: 'crons[0].name' },
    { what: 'a name starting with a dash', file: aFile(aCron({ name: '-index' })), schemaField: 'crons[0].name' },
    { what: 'a 64-character name', file: aFile(aCron({ name: 'a'.repeat(64) })), schemaField: 'crons[0].name' },
    { what: 'no name', file: aFile(aCron({ name: undefined })), schemaField: 'crons[0].name' },
    { what: 'a 4-field schedule', file: aFile(aCron({ schedule: '*/5 * * *' })), schemaField: 'crons[0].schedule' },
    { what: 'a 7-field schedule', file: aFile(aCron({ schedule: '0 0 0 * * * 2026' })), schemaField: 'crons[0].schedule' },
    { what: 'no schedule', file: aFile(aCron({ schedule: undefined })), schemaField: 'crons[0].schedule' },
    { what: 'a time zone that does not exist', file: aFile(aCron({ timezone: 'Mars/Olympus_Mons' })), schemaField: 'crons[0].timezone' },
    { what: 'an offset instead of a zone', file: aFile(aCron({ timezone: '+01:00' })), schemaField: 'crons[0].timezone' },
    { what: 'a command line as one string', file: aFile(aCron({ command: 'node scripts/x.mjs' })), schemaField: 'crons[0].command' },
    { what: 'an empty command', file: aFile(aCron({ command: [] })), schemaField: 'crons[0].command' },
    { what: 'a number in the command', file: aFile(aCron({ command: ['sleep', 5] })), schemaField: 'crons[0].command[1]', serverField: 'crons[0].command' },
    { what: 'a fractional duration', file: aFile(aCron({ estimatedDurationMs: 1.5 })), schemaField: 'crons[0].estimatedDurationMs' },
    { what: 'a timeout under 100 ms', file: aFile(aCron({ timeoutMs: 50 })), schemaField: 'crons[0].timeoutMs' },
    { what: 'enabled as a string', file: aFile(aCron({ enabled: 'yes' })), schemaField: 'crons[0].enabled' },
    { what: 'a blank description', file: aFile(aCron({ description: '   ' })), schemaField: 'crons[0].description' },
    { what: 'a misspelt key', file: aFile(aCron({ schedul: '* * * * *' })), schemaField: 'crons[0].schedul' },
    { what: 'runOn as a string', file: aFile(aCron({ runOn: 'host-a' })), schemaField: 'crons[0].runOn' },
    { what: 'an unknown param type', file: aFile(aCron({ params: { batchSize: { type: 'number' } } })), schemaField: 'crons[0].params.batchSize.type' },
    { what: 'a param without a type', file: aFile(aCron({ params: { batchSize: { min: 1 } } })), schemaField: 'crons[0].params.batchSize.type' },
    { what: 'a param name with a dash', file: aFile(aCron({ params: { 'batch-size': { type: 'integer' } } })), schemaField: 'crons[0].params.batch-size' },
    { what: 'a string default for an integer', file: aFile(aCron({ params: { batchSize: { type: 'integer', default: '2' } } })), schemaField: 'crons[0].params.batchSize.default' },
    { what: 'a number default for a boolean', file: aFile(aCron({ params: { dryRun: { type: 'boolean', default: 0 } } })), schemaField: 'crons[0].params.dryRun.default' },
    { what: 'a param pattern that is not a regular expression', file: aFile(aCron({ params: { label: { type: 'string', pattern: '([a-z' } } })), schemaField: 'crons[0].params.label.pattern' },
    { what: 'a misspelt param key', file: aFile(aCron({ params: { batchSize: { type: 'integer', maximum: 3 } } })), schemaField: 'crons[0].params.batchSize.maximum' },
    { what: 'a negative rate limit', file: aFile(aCron(), { rateLimits: { perCronSeconds: -1 } }), schemaField: 'rateLimits.perCronSeconds' },
    { what: 'an unknown rate limit', file: aFile(aCron(), { rateLimits: { perHour: 5 } }), schemaField: 'rateLimits.perHour' },
    { what: 'retention of 0 days', file: aFile(aCron(), { retentionDays: 0 }), schemaField: 'retentionDays' },
    { what: 'a port past 65535', file: aFile(aCron(), { port: 70000 }), schemaField: 'port' },
    { what: 'a blank host', file: aFile(aCron(), { host: '' }), schemaField: 'host' },
    { what: 'a log cap of 0', file: aFile(aCron(), { maxLogLinesPerExecution: 0 }), schemaField: 'maxLogLinesPerExecution' },
    { what: 'a negative kill grace', file: aFile(aCron(), { killGraceMs: -5 }), schemaField: 'killGraceMs' },
    { what: 'a misspelt top-level key', file: aFile(aCron(), { retention: 7 }), schemaField: 'retention' },
  ];

  for (const { what, file, schemaField, serverField } of badFiles) {
    it(`rejects ${what}, naming ${schemaField}, as the server does`, () => {
      // JSON.stringify drops the undefined values the builders use to leave a field out.
      const document = JSON.parse(JSON.stringify(file));
      assert.deepEqual(schemaFields(document), [schemaField]);
      assert.ok(serverFields(document).includes(serverField ?? schemaField), `the server blames ${serverField ?? schemaField}: ${serverFields(document).join('; ')}`);
    });
  }

  it('reports every problem of a file at once', () => {
    const document = { crons: [aCron({ name: 'Bad Name' }), aCron({ name: 'ok', schedule: '* *', timezone: 'Nowhere/City' })], port: -1 };
    assert.deepEqual(schemaFields(document).sort(), ['crons[0].name', 'crons[1].schedule', 'crons[1].timezone', 'port']);
  });

  it('gives VS Code a one-line message for a bad time zone instead of listing every zone', () => {
    const timezone = (schema.definitions as Record<string, SchemaNode>).cron.properties as Record<string, SchemaNode>;
    assert.match(String(timezone.timezone.errorMessage), /IANA time zone/);
    for (const field of ['name', 'schedule', 'description']) assert.ok(timezone[field].patternErrorMessage, `${field} has a patternErrorMessage`);
  });

  it('documents every field with a description and a markdownDescription', () => {
    const undocumented: string[] = [];
    const visit = (node: SchemaNode, at: string): void => {
      for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, SchemaNode>)) {
        if (!child.description || !child.markdownDescription) undocumented.push(`${at}.${key}`);
        visit(child, `${at}.${key}`);
      }
    };
    visit(schema, '(top)');
    for (const [name, definition] of Object.entries(schema.definitions as Record<string, SchemaNode>)) visit(definition, name);
    assert.deepEqual(undocumented, []);
  });

  it('lists exactly the time zones this Node accepts (else run node test/support/writeCronsSchemaTimeZones.mjs)', () => {
    const cron = (schema.definitions as Record<string, SchemaNode>).cron.properties as Record<string, SchemaNode>;
    const zones = new Set(cron.timezone.enum as string[]);
    const rejected = [...zones].filter((zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(rejected, [], 'the schema lists zones the server would refuse');
    const missing = Intl.supportedValuesOf('timeZone').filter((zone) => !zones.has(zone));
    assert.deepEqual(missing, [], 'the schema lacks zones the server accepts');
    for (const zone of ['UTC', 'Africa/Tunis', 'Europe/Paris', 'Asia/Kolkata', 'America/New_York']) assert.ok(zones.has(zone), zone);
  });
});
