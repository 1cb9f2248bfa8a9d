// Start-up does not size the young generation. V8 doubles its new space each time a scavenge finds most of
// it still alive, and start-up is nearly all survivors: the bundle's modules, Fastify's compiled request
// validators and reply serializers (one per route and status), the warm-up's first reads. Since the HTTP
// layer's schemas (2026-11-30) that grew the new space from 2 × 4 to 2 × 8 MB, which V8 keeps while the
// server idles: idle RSS 109 MB against issue 10's 100. Imported first by main.ts, this module holds V8's
// growth factor at 1 until the server listens; then V8's default applies again, so a real load (a burst
// of runs or reads) still grows the new space as before.
import { setFlagsFromString } from 'node:v8';

/** V8's default --semi-space-growth-factor (`node --v8-options`, Node 20). */
const DEFAULT_GROWTH_FACTOR = 2;

/** Set by the operator (node --semi-space-growth-factor=N or NODE_OPTIONS): theirs, left alone. */
const chosenByOperator = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /semi[-_]space[-_]growth[-_]factor/.test(arg));

let held = false;
if (!chosenByOperator) {
  // V8 reads this flag at each growth of the new space, so setting it at run time takes effect.
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Start-up is over (the server listens): the new space grows with the load again, as V8 would. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  held = false;
  setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
}
