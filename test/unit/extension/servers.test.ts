import { strict as assert } from 'node:assert';
import { ApiClient, ApiError } from '../../../src/extension/apiClient';
import { DEFAULT_SERVER_ID, defaultServerUrl, findServer, resolveServers } from '../../../src/extension/serverList';
import { Logger } from '../../../src/extension/logger';
import { errorText, redactUrl, redactUrls } from '../../../src/extension/serverOrigin';
import { chooseServer, innerArg, serverRefOf } from '../../../src/extension/serverTarget';

describe('the servers the settings describe (cronOps.servers and cronOps.serverUrl)', () => {
  it('an empty or missing list means the one cronOps.serverUrl server, as before', () => {
    for (const list of [undefined, null, []]) {
      const { servers, problems } = resolveServers(list, 'http://127.0.0.1:9998/');
      assert.deepEqual(servers, [{ id: DEFAULT_SERVER_ID, name: '127.0.0.1:9998', url: 'http://127.0.0.1:9998', origin: 'http://127.0.0.1:9998', isDefault: true }]);
      assert.deepEqual(problems, []);
    }
  });

  it('adds cronOps.serverUrl first when the list does not name it', () => {
    const { servers } = resolveServers([{ name: 'production', url: 'https://cron.example.com/' }], 'http://localhost:9998');
    assert.deepEqual(
      servers.map(({ id, name, url, isDefault }) => ({ id, name, url, isDefault })),
      [
        { id: DEFAULT_SERVER_ID, name: 'localhost:9998', url: 'http://localhost:9998', isDefault: true },
        { id: 'https://cron.example.com', name: 'production', url: 'https://cron.example.com', isDefault: false },
      ],
    );
  });

  it('the entry of cronOps.serverUrl keeps its place and name, and that setting\'s URL (same origin)', () => {
    const { servers } = resolveServers(
      [
        { name: 'production', url: 'https://cron.example.com' },
        { name: 'staging', url: 'http://127.0.0.1:9998/other-path' },
      ],
      'http://127.0.0.1:9998',
    );
    assert.deepEqual(
      servers.map(({ id, name, url }) => ({ id, name, url })),
      [
        { id: 'https://cron.example.com', name: 'production', url: 'https://cron.example.com' },
        { id: DEFAULT_SERVER_ID, name: 'staging', url: 'http://127.0.0.1:9998' },
      ],
    );
  });

  it('leaves out bad entries and says why: no URL, not http(s), an origin listed twice (one token per origin)', () => {
    const { servers, problems } = resolveServers(
      [{ name: 'a' }, { name: 'b', url: 'ftp://x' }, 'https://plain-string', { name: 'c', url: 'https://c.example' }, { name: 'd', url: 'https://c.example/other' }],
      'http://127.0.0.1:9998',
    );
    assert.deepEqual(
      servers.map((server) => server.name),
      ['127.0.0.1:9998', 'c'],
    );
    assert.equal(problems.length, 4);
    assert.match(problems[0], /cronOps\.servers\[0\] has no "url"/);
    assert.match(problems[1], /cronOps\.servers\[1\]: "ftp:\/\/x" is not an http\(s\) URL/);
    assert.match(problems[3], /cronOps\.servers\[4\]: https:\/\/c\.example is already listed/);
  });

  it('a list that is not a list is reported, the default server kept', () => {
    const { servers, problems } = resolveServers({ name: 'x' }, 'http://127.0.0.1:9998');
    assert.equal(servers.length, 1);
    assert.match(problems[0], /not a list/);
  });

  it('a name used twice is told apart by its host; a server without a name is named by its host', () => {
    const { servers } = resolveServers(
      [
        { name: 'prod', url: 'https://a.example' },
        { name: 'prod', url: 'https://b.example:8443' },
        { url: 'https://c.example' },
      ],
      'https://a.example',
    );
    assert.deepEqual(
      servers.map((server) => server.name),
      ['prod', 'prod (b.example:8443)', 'c.example'],
    );
  });

  it('finds a server by id, name (any case), URL or origin', () => {
    const { servers } = resolveServers([{ name: 'Production', url: 'https://cron.example.com/base' }], 'http://127.0.0.1:9998');
    assert.equal(findServer(servers, DEFAULT_SERVER_ID)?.name, '127.0.0.1:9998');
    assert.equal(findServer(servers, 'production')?.name, 'Production');
    assert.equal(findServer(servers, 'https://cron.example.com/base/')?.name, 'Production');
    assert.equal(findServer(servers, 'https://cron.example.com')?.name, 'Production');
    assert.equal(findServer(servers, 'staging'), undefined);
  });
});

describe('which server a command acts on', () => {
  const servers = (knowing: string[], active = 'staging') => ['staging', 'production'].map((id) => ({ id, active: id === active, knows: knowing.includes(id) }));

  it('from the palette (nothing named): the active server', () => {
    assert.deepEqual(chooseServer(servers(['production']), false), { kind: 'server', id: 'staging' });
    assert.deepEqual(chooseServer(servers([], 'production'), false), { kind: 'server', id: 'production' });
  });

  it('a cron or execution known to one server only: that server, active or not', () => {
    assert.deepEqual(chooseServer(servers(['production']), true), { kind: 'server', id: 'production' });
  });

  it('known to several: asks, the active one first; known to none: the active one answers', () => {
    assert.deepEqual(chooseServer(servers(['staging', 'production'], 'production'), true), { kind: 'ask', ids: ['production', 'staging'] });
    assert.deepEqual(chooseServer(servers([]), true), { kind: 'server', id: 'staging' });
  });

  it('with one server there is nothing to choose', () => {
    assert.deepEqual(chooseServer([{ id: 'default', active: true, knows: false }], true), { kind: 'server', id: 'default' });
  });

  it('a tree item or a scoped argument names its server; the inner argument is what the command resolves', () => {
    assert.equal(serverRefOf({ serverId: 'production', cron: {} }), 'production');
    assert.equal(serverRefOf({ server: 'staging', cronName: 'backup' }), 'staging');
    assert.equal(serverRefOf('backup'), undefined);
    assert.equal(innerArg({ server: 'staging', cronName: 'backup' }), 'backup');
    assert.equal(innerArg({ server: 'staging', executionId: 'e1' }), 'e1');
    assert.equal(innerArg({ server: 'staging' }), undefined);
    const node = { serverId: 'x' };
    assert.equal(innerArg(node), node);
  });
});

describe('server URLs from the settings: credentials, a browser\'s address, a proxy prefix, reserved names', () => {
  const SECRET = 's3cretPW';

  it('an entry with a user name or password is left out, saying to use Sign In; the warning never quotes the password', () => {
    const { servers, problems } = resolveServers(
      [
        { name: 'production', url: `http://alice:${SECRET}@cron.example.com` },
        { name: 'at', url: `http://alice:pa@ss@cron2.example.com` },
      ],
      'http://127.0.0.1:9998',
    );
    assert.deepEqual(
      servers.map((server) => server.name),
      ['127.0.0.1:9998'],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0], /cronOps\.servers\[0\]: "http:\/\/\*\*\*@cron\.example\.com" holds a user name or password; it was left out\. Remove them .* "Cron Ops: Sign In"/);
    assert.match(problems[1], /"http:\/\/\*\*\*@cron2\.example\.com"/);
    assert.equal(problems.join(' ').includes(SECRET) || problems.join(' ').includes('pa@ss'), false);
  });

  it('cronOps.serverUrl with credentials: the server is kept without them (never sent), and a warning says to use Sign In', () => {
    const { servers, problems } = resolveServers(undefined, `http://alice:${SECRET}@127.0.0.1:9998/`);
    assert.deepEqual(servers, [{ id: DEFAULT_SERVER_ID, name: '127.0.0.1:9998', url: 'http://127.0.0.1:9998', origin: 'http://127.0.0.1:9998', isDefault: true }]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^cronOps\.serverUrl holds a user name or password: they are not sent\. Remove them .* "Cron Ops: Sign In"/);
    assert.equal(defaultServerUrl(`http://alice:${SECRET}@127.0.0.1:9998/`), 'http://127.0.0.1:9998');
  });

  it('entries that are no URL are quoted with everything before their last "@" hidden (ftp://, a missing ":")', () => {
    const { problems } = resolveServers(
      [
        { name: 'ftp', url: `ftp://alice:${SECRET}@files.example.com/crons` },
        { name: 'typo', url: `http//bob:${SECRET}@cron.example.com` },
        { name: 'slash', url: `http://carol:pa/${SECRET}@cron.example.com` },
      ],
      'http://127.0.0.1:9998',
    );
    assert.deepEqual(problems, [
      'cronOps.servers[0]: "ftp://***@files.example.com/crons" is not an http(s) URL; it was left out.',
      'cronOps.servers[1]: "http//***@cron.example.com" is not an http(s) URL; it was left out.',
      'cronOps.servers[2]: "http://***@cron.example.com" is not an http(s) URL; it was left out.',
    ]);
  });

  it('a URL pasted from a browser loses its fragment and query, with a warning; a path (a reverse proxy prefix) is kept', () => {
    const { servers, problems } = resolveServers(
      [
        { name: 'hash', url: 'http://127.0.0.1:4000/#/crons' },
        { name: 'query', url: 'https://cron.example.com/?tab=1' },
        { name: 'proxied', url: 'https://ops.example.com/cron-ops/' },
      ],
      'http://127.0.0.1:9998?x=1',
    );
    assert.deepEqual(
      servers.map(({ name, url }) => `${name}=${url}`),
      ['127.0.0.1:9998=http://127.0.0.1:9998', 'hash=http://127.0.0.1:4000', 'query=https://cron.example.com', 'proxied=https://ops.example.com/cron-ops'],
    );
    assert.deepEqual(problems, [
      'cronOps.serverUrl: the query "?x=1" was ignored (a server URL is its address, e.g. https://cron.example.com).',
      'cronOps.servers[0]: the fragment "#/crons" of "http://127.0.0.1:4000" was ignored (a server URL is its address, e.g. https://cron.example.com).',
      'cronOps.servers[1]: the query "?tab=1" of "https://cron.example.com" was ignored (a server URL is its address, e.g. https://cron.example.com).',
    ]);
  });

  it('a server named "default" is reached by that name: internal ids never collide with names', () => {
    const { servers, problems } = resolveServers(
      [
        { name: 'default', url: 'https://a.example' },
        { name: DEFAULT_SERVER_ID, url: 'https://b.example' },
      ],
      'http://127.0.0.1:9998',
    );
    assert.equal(findServer(servers, 'default')?.url, 'https://a.example');
    assert.equal(findServer(servers, DEFAULT_SERVER_ID)?.isDefault, true);
    assert.equal(findServer(servers, `${DEFAULT_SERVER_ID} (b.example)`)?.url, 'https://b.example');
    assert.match(problems.join(' '), /"cronOps\.serverUrl" is reserved/);
  });
});

describe('redacting credentials from any text that holds a URL', () => {
  it('covers a password with an unencoded "@" whole (the URL parser splits at the last one) and "user:pw@" without "://"', () => {
    const url = 'http://alice:pa@ss@127.0.0.1:3000/x';
    assert.equal(new URL(url).password, 'pa%40ss');
    assert.equal(redactUrl(url), 'http://***@127.0.0.1:3000/x');
    assert.equal(redactUrls(`fetch failed: ${url} (and http//bob:pw@host)`), 'fetch failed: http://***@127.0.0.1:3000/x (and http//***@host)');
    assert.equal(redactUrls('alice@example.com at 10:00, http://h:1/a?b=c@d'), 'alice@example.com at 10:00, http://h:1/a?b=c@d');
  });

  it('a real fetch refusing a URL with credentials: the ApiError and errorText carry no password', async () => {
    const client = new ApiClient(() => 'http://alice:s3cretPW@127.0.0.1:9', async () => undefined);
    const error = await client.crons().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ApiError, String(error));
    assert.match(error.message, /http:\/\/\*\*\*@127\.0\.0\.1:9/);
    assert.equal(errorText(error).includes('s3cretPW'), false, error.message);
    assert.equal(errorText(new TypeError('Request cannot be constructed from a URL that includes credentials: http://a:s3cretPW@h/api')).includes('s3cretPW'), false);
  });
});

describe('the log', () => {
  it('redacts credentials in every line, and a server\'s prefix follows its name', () => {
    const lines: string[] = [];
    const sink = { debug: (line: string) => lines.push(line), info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    let name = 'production';
    const log = new Logger(sink).child(() => name);
    log.warn('Cannot reach http://alice:s3cretPW@127.0.0.1:9/api', new TypeError('Request cannot be constructed from a URL that includes credentials: http://alice:s3cretPW@127.0.0.1:9/api'));
    name = 'prod-eu';
    log.info('renamed');
    assert.deepEqual(lines, [
      '[production] Cannot reach http://***@127.0.0.1:9/api: Request cannot be constructed from a URL that includes credentials: http://***@127.0.0.1:9/api',
      '[prod-eu] renamed',
    ]);
  });
});
