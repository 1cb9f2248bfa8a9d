// DNS rebinding guard: a server bound to loopback answers only requests addressed to a loopback name or
// address (plus the configured allowedHosts). A page on another site that rebinds its name to 127.0.0.1
// sends its own name as Host, and is refused.
import { isIP } from 'node:net';

export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

/** The host name of a Host header value, without its port ("[::1]:9998" -> "::1"). */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']') > 0 ? value.indexOf(']') : undefined);
  const colon = value.lastIndexOf(':');
  return colon >= 0 && value.indexOf(':') === colon ? value.slice(0, colon) : value;
}

/**
 * Whether a request with this Host header may be answered by a server bound to `bindHost`. Only servers
 * bound to loopback check: one bound to another address is meant to be reached by other names.
 */
export function hostAllowed(bindHost: string, hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (!isLoopbackAddress(bindHost)) return true;
  if (!hostHeader) return false;
  const name = hostName(hostHeader);
  return isLoopbackAddress(name) || allowedHosts.includes(name);
}
