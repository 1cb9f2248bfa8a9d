// Pure checks of the HTTP layer: JSON depth, strings no part of the server can take, the Host guard, and
// who may do what.
import assert from 'node:assert/strict';
import { allowed, type Caller, type Permission } from '../../../src/server/auth';
import { hostAllowed, hostName, isLoopbackAddress } from '../../../src/server/http/hostCheck';
import { badStringProblem, findBadString, jsonDepth } from '../../../src/server/http/inputGuards';

describe('server: HTTP input guards', () => {
  it('measures JSON depth without parsing, ignoring brackets inside strings', () => {
    assert.equal(jsonDepth('{}'), 1);
    assert.equal(jsonDepth('"text"'), 0);
    assert.equal(jsonDepth('{"a": [1, {"b": []}]}'), 4);
    assert.equal(jsonDepth('{"a": "[[[[[[", "b": "\\"{{{{"}'), 1);
    assert.equal(jsonDepth('['.repeat(100_000)), 100_000);
  });

  it('finds NUL and lone surrogates in strings and keys, and says where', () => {
    assert.equal(badStringProblem('plain'), undefined);
    assert.equal(badStringProblem('emoji \ud83d\ude00'), undefined);
    assert.match(badStringProblem('a\u0000b')!, /NUL/);
    assert.match(badStringProblem('\ud800')!, /surrogate/);
    assert.match(badStringProblem('x\udc00')!, /surrogate/);
    assert.match(badStringProblem('\ude00\ud83d')!, /surrogate/, 'a pair in the wrong order');
    assert.equal(findBadString({ cronName: 'a', params: { n: 1, ok: true, list: ['x'] } }, ''), undefined);
    assert.match(findBadString({ params: { label: 'a\u0000' } }, '')!, /^params\.label .*NUL/);
    assert.match(findBadString({ params: { ['k\ud800']: 1 } }, '')!, /a key in params/);
    let deep: unknown = 'bad\u0000';
    for (let index = 0; index < 10_000; index++) deep = [deep];
    assert.match(findBadString(deep, 'body')!, /NUL/, 'any depth, no stack overflow');
  });
});

describe('server: Host guard', () => {
  it('knows the loopback names and addresses', () => {
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(host), host);
    for (const host of ['0.0.0.0', '10.0.0.1', '128.0.0.1', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io', '::', '::2']) assert.ok(!isLoopbackAddress(host), host);
  });

  it('takes the host name out of a Host header', () => {
    assert.equal(hostName('localhost:9998'), 'localhost');
    assert.equal(hostName('[::1]:9998'), '::1');
    assert.equal(hostName('[::1]'), '::1');
    assert.equal(hostName('Example.COM'), 'example.com');
  });

  it('checks only servers bound to loopback; allowedHosts widens', () => {
    assert.ok(hostAllowed('127.0.0.1', 'localhost:9998', []));
    assert.ok(!hostAllowed('127.0.0.1', 'rebind.attacker.example', []));
    assert.ok(!hostAllowed('127.0.0.1', undefined, []), 'no Host header at all');
    assert.ok(hostAllowed('127.0.0.1', 'ops.internal:9998', ['ops.internal']));
    assert.ok(hostAllowed('0.0.0.0', 'anything.example', []), 'a server bound to all interfaces is meant to be reached by name');
    assert.ok(hostAllowed('::1', '[::1]:9998', []));
  });
});

describe('server: permissions', () => {
  const callers: Record<string, Caller> = {
    viewer: { actor: 'token:v', role: 'viewer' },
    admin: { actor: 'token:a', role: 'admin' },
    superAdmin: { actor: 'token:s', role: 'super-admin' },
    machine: { actor: 'machine:x-cron-secret', role: 'machine' },
  };
  const matrix: Record<Permission, string[]> = {
    read: ['viewer', 'admin', 'superAdmin'],
    act: ['admin', 'superAdmin'],
    trigger: ['admin', 'superAdmin', 'machine'],
    retention: ['admin', 'superAdmin', 'machine'],
    audit: ['superAdmin'],
    tokens: ['superAdmin'],
    machine: ['machine'],
    source: ['admin', 'superAdmin'],
  };

  for (const [permission, who] of Object.entries(matrix) as Array<[Permission, string[]]>) {
    it(`${permission}: ${who.join(', ')}; the others get a reason`, () => {
      for (const [name, caller] of Object.entries(callers)) {
        const reason = allowed(caller, permission);
        if (who.includes(name)) assert.equal(reason, undefined, `${name} may ${permission}`);
        else {
          assert.equal(typeof reason, 'string', `${name} may not ${permission}`);
          assert.ok(reason!.length > 20, `a reason a person can act on: ${reason}`);
          if (name === 'machine') assert.match(reason!, /X-Cron-Secret/);
        }
      }
    });
  }
});
