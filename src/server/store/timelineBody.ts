// The timeline route's reply made ready to send: its JSON text, gzipped when the client accepts it. A 7-day
// reply is ~430 KB of JSON (a few thousand buckets and runs): left to @fastify/compress it was gzipped at
// zlib's default level on the server's two cores after the main thread serialized it again. Here it is
// written where it was read (the timeline's worker thread) and compressed at a cheaper level.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { TimelineReply } from '../../shared/api';
import type { TimelineBody, TimelineEncoding } from './timelineProtocol';

/**
 * zlib level for the timeline (measured on a 7-day reply at 1,000,000 runs, see the README's Performance):
 * level 1 costs about half the CPU of the default 6 for a reply ~10 % larger, far under the 300 KB goal.
 */
export const TIMELINE_GZIP_LEVEL = 1;

/** Array items serialized between two turns of the event loop when the text is written on the main thread. */
const ITEMS_PER_SLICE = 500;

const gzipAsync = promisify(gzip);

/**
 * The reply as it goes on the wire. `inSlices`: written on the server's main thread (a store read there:
 * --memory, or the worker given up), so its arrays are serialized a slice at a time with a turn of the event loop
 * between two; the gzip itself always runs in libuv's thread pool, off the event loop.
 */
export async function timelineBody(reply: TimelineReply, encoding: TimelineEncoding, inSlices = false): Promise<TimelineBody> {
  const text = inSlices ? await jsonInSlices(reply) : JSON.stringify(reply);
  if (encoding === 'identity') return { encoding, body: text };
  return { encoding, body: await gzipAsync(text, { level: TIMELINE_GZIP_LEVEL }) };
}

/** JSON.stringify's text for a plain object of values and arrays, its arrays a slice at a time. */
async function jsonInSlices(value: object): Promise<string> {
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (!Array.isArray(item)) {
      parts.push(`${JSON.stringify(key)}:${JSON.stringify(item)}`);
      continue;
    }
    const slices: string[] = [];
    for (let start = 0; start < item.length; start += ITEMS_PER_SLICE) {
      if (start > 0) await new Promise((resolveLater) => setImmediate(resolveLater));
      // An array's text without its brackets: the slices joined by commas make the whole array's.
      slices.push(JSON.stringify(item.slice(start, start + ITEMS_PER_SLICE)).slice(1, -1));
    }
    parts.push(`${JSON.stringify(key)}:[${slices.join(',')}]`);
  }
  return `{${parts.join(',')}}`;
}
