// The web hook signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The timestamp is signed
// with the body, so a receiver that rejects old timestamps cannot be fed a replayed delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Receivers should refuse signatures older (or newer) than this. */
export const SIGNATURE_TOLERANCE_S = 300;

function hmac(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
}

/** The value of the X-Cron-Ops-Signature header for `body` sent at `timestampS`. */
export function signatureHeader(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmac(secret, timestampS, body)}`;
}

export type Verification = { ok: true; timestampS: number } | { ok: false; reason: string };

/** What a receiver does (and what the tests do): check the HMAC in constant time, then the age. */
export function verifySignature(header: string | undefined, body: string, secret: string, nowS: number, toleranceS = SIGNATURE_TOLERANCE_S): Verification {
  if (!header) return { ok: false, reason: 'no signature header' };
  const parts = new Map(header.split(',').map((part) => {
    const at = part.indexOf('=');
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
  }));
  const timestampS = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestampS) || !given || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'malformed signature header' };
  const expected = Buffer.from(hmac(secret, timestampS, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'signature does not match' };
  if (Math.abs(nowS - timestampS) > toleranceS) return { ok: false, reason: `timestamp ${timestampS} is more than ${toleranceS} s away: a replay?` };
  return { ok: true, timestampS };
}
