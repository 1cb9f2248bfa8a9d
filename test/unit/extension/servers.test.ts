import { strict as assert } from 'node:assert';
import { DEFAULT_SERVER_ID, findServer, resolveServers } from '../../../src/extension/serverList';
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
