// Regenerates the time zone enum of media/crons.schema.json: run `node test/support/writeCronsSchemaTimeZones.mjs`
// with the Node the server runs on (20), then commit the schema. The unit test
// test/unit/schema/cronsSchema.test.ts fails when this Node knows a zone the schema lacks, or the schema lists
// one this Node rejects, and names this script.
//
// Why more than Intl.supportedValuesOf('timeZone'): Node 20's ICU lists its own canonical names only (it has
// Asia/Calcutta, not Asia/Kolkata; Europe/Kiev, not Europe/Kyiv) and leaves out UTC, while the server accepts
// every name Intl.DateTimeFormat accepts. So the enum is that list, plus UTC, plus every zone and link of the
// system's tz database (/usr/share/zoneinfo/tzdata.zi, Debian's tzdata) that this Node accepts: an editor
// error on a name the server runs would be wrong.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const schemaPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'media', 'crons.schema.json');
const tzdataPath = '/usr/share/zoneinfo/tzdata.zi';

function acceptedByNode(zone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function tzdataNames() {
  if (!existsSync(tzdataPath)) {
    console.warn(`${tzdataPath} not found (install the tzdata package): the enum will lack links such as Asia/Kolkata`);
    return [];
  }
  const names = [];
  for (const line of readFileSync(tzdataPath, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'Z') names.push(fields[1]); // Z NAME ...: a zone
    else if (fields[0] === 'L') names.push(fields[2]); // L TARGET NAME: NAME is a link to TARGET
  }
  return names;
}

const zones = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', ...tzdataNames()])].filter(acceptedByNode).sort();
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
schema.definitions.cron.properties.timezone.enum = zones;
writeFileSync(schemaPath, JSON.stringify(schema, null, 2) + '\n');
console.log(`${schemaPath}: ${zones.length} time zones (Node ${process.version}, ICU tz ${process.versions.tz})`);
