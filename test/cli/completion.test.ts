/**
 * Names for completion and `.describe`: the catalog asks `$tjstp` and
 * falls back to `inspect`; the completer answers readline; signatures are
 * read from JSON Schemas.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog, type CatalogClient, type Description } from '../../lib/cli/repl/catalog';
import { complete, type Names } from '../../lib/cli/repl/completer';
import { formatDescription, formatSignature, schemaType } from '../../lib/cli/repl/signature';
import { RemoteError } from '../../lib/index';

const plain = { colors: false };

/** A client that answers `$tjstp` from `description`, or error 12 when it is undefined. */
const fakeClient = (description: Description | undefined, inspectable: Record<string, string[]>): CatalogClient & { calls: string[] } => {
  const calls: string[] = [];
  return {
    calls,
    async callResults(iface, method, args) {
      calls.push(`${iface}.${method}(${args.join(',')})`);
      if (description === undefined) throw new RemoteError(12);
      if (method === 'interfaces') return [Object.keys(description)];
      const wanted = args[0] as string | undefined;
      if (wanted === undefined) return [description];
      if (!(wanted in description)) throw new RemoteError(12);
      return [{ [wanted]: description[wanted] }];
    },
    async inspect(iface) {
      calls.push(`inspect ${iface}`);
      const names = inspectable[iface];
      if (!names) throw new RemoteError(12);
      return names;
    },
  };
};

describe('catalog', () => {
  it('takes names and signatures from $tjstp', async () => {
    const client = fakeClient({ calc: { add: { access: 'public', parameters: [{ title: 'a', type: 'number' }] } }, chat: { say: {} } }, {});
    const catalog = new Catalog(client);
    await catalog.load();
    assert.equal(catalog.described, true);
    assert.deepEqual(catalog.interfaces, ['calc', 'chat']);
    assert.deepEqual(catalog.methodsOf('calc'), ['add']);
    assert.deepEqual(catalog.info('calc', 'add'), { access: 'public', parameters: [{ title: 'a', type: 'number' }] });
    assert.deepEqual(client.calls, ['$tjstp.interfaces()', '$tjstp.describe()']);
  });

  it('falls back to inspect when the server has no $tjstp, for the names it was given or learned', async () => {
    const client = fakeClient(undefined, { calc: ['add', 'echo'], chat: ['say'] });
    const catalog = new Catalog(client, ['calc']);
    await catalog.load();
    assert.equal(catalog.described, false);
    assert.deepEqual(catalog.methodsOf('calc'), ['add', 'echo']);
    assert.equal(catalog.methodsOf('chat'), undefined);
    catalog.learn('chat');
    assert.deepEqual(await catalog.fetchMethods('chat'), ['say']);
    await assert.rejects(catalog.fetchMethods('nope'), { code: 12 });
    assert.deepEqual(catalog.interfaces, ['calc', 'chat']);
    const description = await catalog.describe();
    assert.deepEqual(Object.keys(description), ['calc', 'chat']);
    assert.match(formatDescription(description, false, plain), /publishes names only/);
  });
});

describe('completer', () => {
  const names: Names = {
    interfaces: ['calc', 'chat', 'counter'],
    methodsOf: (iface) => ({ calc: ['add', 'echo'], chat: ['say', 'send'] })[iface],
  };
  const answer = (line: string): unknown => complete(line, names);

  it('completes interfaces with their dot, methods with their parenthesis', () => {
    assert.deepEqual(answer('ca'), { completion: [['calc.'], 'ca'] });
    assert.deepEqual(answer('c'), { completion: [['calc.', 'chat.', 'counter.'], 'c'] });
    assert.deepEqual(answer('calc.a'), { completion: [['add('], 'a'] });
    assert.deepEqual(answer('chat.s'), { completion: [['say', 'send'], 's'] });
    assert.deepEqual(answer('calc.'), { completion: [['add', 'echo'], ''] });
    assert.deepEqual(answer('calc.add(1, '), { completion: [[], ''] });
  });

  it('asks for the methods of an interface it does not know yet', () => {
    assert.deepEqual(answer('counter.inc'), { fetch: 'counter' });
  });

  it('completes commands and their arguments', () => {
    assert.deepEqual(answer('.dr'), { completion: [['.drop'], '.dr'] });
    assert.deepEqual(answer('.e'), { completion: [['.emit', '.events', '.exit'], '.e'] });
    assert.deepEqual(answer('.describe ch'), { completion: [['chat.'], 'ch'] });
    assert.deepEqual(answer('.describe calc.e'), { completion: [['echo'], 'e'] });
    assert.deepEqual(answer('.emit chat.sa'), { completion: [['say('], 'sa'] });
    assert.deepEqual(answer('.events o'), { completion: [['on', 'off'], 'o'] });
    assert.deepEqual(answer('.events off co'), { completion: [['counter'], 'co'] });
    assert.deepEqual(answer('.verbose a'), { completion: [['all'], 'a'] });
    const empty = answer('') as { completion: [string[], string] };
    assert.ok(empty.completion[0].includes('calc.') && empty.completion[0].includes('.help'));
  });
});

describe('signatures', () => {
  it('reads tjstp method schemas: titles, defaults, returns and access', () => {
    const info = {
      access: 'user',
      parameters: [{ title: 'room', type: 'string' }, { title: 'limit', type: 'integer', default: 10 }],
      returns: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, text: { type: 'string' } }, required: ['id'] } },
      description: 'Recent messages',
    };
    assert.equal(
      formatSignature('chat', 'history', info, plain),
      'chat.history(room: string, limit?: integer) → { id: string, text?: string }[]  [log in]\n    Recent messages',
    );
    assert.equal(formatSignature('calc', 'add', { access: 'public' }, plain), 'calc.add(…)');
  });

  it('reads other parameter forms', () => {
    assert.equal(formatSignature('a', 'b', { parameters: ['x', 'y'] }, plain), 'a.b(x, y)');
    assert.equal(formatSignature('a', 'b', { parameters: [{ name: 'x', type: 'number', optional: true }] }, plain), 'a.b(x?: number)');
    assert.equal(formatSignature('a', 'b', { parameters: { type: 'array', prefixItems: [{ type: 'number' }, { enum: ['up', 'down'] }] } }, plain), 'a.b(number, "up" | "down")');
    assert.equal(formatSignature('a', 'b', { parameters: { x: { type: ['string', 'null'] } } }, plain), 'a.b(x: string | null)');
    assert.equal(schemaType({ anyOf: [{ const: 1 }, { type: 'boolean' }] }), '1 | boolean');
  });
});
