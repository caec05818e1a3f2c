/**
 * What a failing method sends: a RemoteError's own code, message and info,
 * recognised by its brand even when it comes from another copy of tjstp;
 * anything else thrown or rejected (a string, a number, a plain object, an
 * Error) is `[16]` on the wire and logged, its details never sent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, Server, connect, type ApplicationDefinition, type ServerSession } from '../../lib/index';
import { toWireError } from '../../lib/protocol/errors';
import { fastReconnect, startServer, waitFor } from '../helpers/fixtures';
import { openSession, rawCall } from '../helpers/raw';
import { capturingLogger } from './loader-fixtures';

const brand = Symbol.for('tjstp.RemoteError');

/** A RemoteError as another copy of tjstp makes it: its own class, the shared brand. */
class ForeignRemoteError extends Error {
  readonly code: number;
  readonly info: unknown[];

  constructor(code: number, message: string, info: unknown[] = []) {
    super(message);
    this.code = code;
    this.info = info;
  }

  get [brand](): true {
    return true;
  }
}

/** Each entry: what the method throws, and the error the client must get. */
const thrown: Record<string, { value: () => unknown; wire: unknown[]; logged: boolean }> = {
  string: { value: () => 'SECRET internal detail', wire: [16], logged: true },
  number: { value: () => 1001, wire: [16], logged: true },
  object: { value: () => ({ code: 1001, message: 'SECRET plain object' }), wire: [16], logged: true },
  error: { value: () => new TypeError('SECRET type error'), wire: [16], logged: true },
  nothing: { value: () => undefined, wire: [16], logged: true },
  remote: { value: () => new RemoteError(1002, 'Not now', ['why']), wire: [1002, 'Not now', 'why'], logged: false },
  foreign: { value: () => new ForeignRemoteError(1003, 'From another copy', [{ field: 'x' }]), wire: [1003, 'From another copy', { field: 'x' }], logged: false },
  foreignPlain: { value: () => ({ [brand]: true, code: 10 }), wire: [10], logged: false },
  brandNoCode: { value: () => ({ [brand]: true, code: 'SECRET' }), wire: [16], logged: true },
};

const definition = (): ApplicationDefinition => {
  const fail: Record<string, () => unknown> = {};
  for (const [name, { value }] of Object.entries(thrown)) {
    fail[name] = () => {
      throw value();
    };
    fail[`${name}Async`] = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw value();
    };
  }
  return { name: 'testApp', api: { fail } };
};

describe('thrown values', () => {
  it('answer [16] unless a RemoteError of any copy, sync and async, and log what is not', async () => {
    const logger = capturingLogger();
    const server = new Server({ applications: [definition()], logger });
    const [tcp] = await server.listen({ tcp: 0 });
    try {
      const { client } = await openSession('tcp', { port: { tcp: tcp?.port as number }, url: { ws: '' } });
      let id = 0;
      let expectedLogs = 0;
      for (const [name, { wire, logged }] of Object.entries(thrown)) {
        for (const method of [name, `${name}Async`]) {
          const reply = await rawCall(client, ++id, 'fail', method, []);
          assert.deepEqual(reply.error, wire, method);
          if (logged) expectedLogs++;
        }
      }
      assert.equal(client.texts.some((text) => text.includes('SECRET')), false, 'no detail reached the client');
      await waitFor(() => logger.errors.length === expectedLogs, 2000, `${expectedLogs} logged failures`);
      assert.ok(logger.errors.some(({ error }) => error === 'SECRET internal detail'), 'the string is logged as thrown');
      assert.ok(logger.errors.some(({ error }) => error === 1001), 'the number is logged as thrown');
    } finally {
      await server.close();
    }
  });

  it('keeps the code of a RemoteError of another copy thrown by the login hook', async () => {
    const server = new Server({
      applications: [definition()],
      logger: capturingLogger(),
      authenticate: () => {
        throw new ForeignRemoteError(1010, 'Account locked');
      },
    });
    const [tcp] = await server.listen({ tcp: 0 });
    try {
      await assert.rejects(connect(tcp?.url as string, { app: 'testApp', login: { user: 'a', password: 'b' }, reconnect: false }), (error: unknown) => {
        assert.ok(error instanceof RemoteError, String(error));
        assert.equal(error.code, 1010);
        assert.equal(error.message, 'Account locked');
        return true;
      });
    } finally {
      await server.close();
    }
  });

  it('answers [16] for what a client api method throws, unless a RemoteError of any copy', async () => {
    const f = await startServer();
    const sessions: ServerSession[] = [];
    f.server.on('session', (session: ServerSession) => sessions.push(session));
    const client = await connect(f.url.ws, {
      app: 'testApp',
      reconnect: fastReconnect,
      api: {
        device: {
          string: () => {
            throw 'SECRET';
          },
          number: async () => {
            throw 7;
          },
          foreign: async () => {
            throw new ForeignRemoteError(1003, 'From another copy');
          },
        },
      },
    });
    client.on('error', () => {});
    try {
      const session = sessions[0] as ServerSession;
      const code = async (method: string): Promise<[number, string]> => {
        try {
          await session.call('device', method);
        } catch (error) {
          return [(error as RemoteError).code, (error as RemoteError).message];
        }
        throw new Error(`${method} did not fail`);
      };
      assert.deepEqual(await code('string'), [16, 'Internal API error']);
      assert.deepEqual(await code('number'), [16, 'Internal API error']);
      assert.deepEqual(await code('foreign'), [1003, 'From another copy']);
    } finally {
      client.close();
      await f.close();
    }
  });

  it('RemoteError.is goes by the brand and an integer code; toWireError sends nothing else', () => {
    assert.equal(RemoteError.is(new RemoteError(1)), true);
    assert.equal(RemoteError.is(new ForeignRemoteError(5, 'x')), true);
    assert.equal(RemoteError.is({ [brand]: true, code: 1.5 }), false);
    assert.equal(RemoteError.is({ code: 1001, message: 'x' }), false);
    assert.equal(RemoteError.is(Object.assign(new Error('x'), { code: 1001 })), false);
    assert.equal(RemoteError.is(null), false);
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    assert.equal(RemoteError.is(hostile), false);
    assert.deepEqual(toWireError(hostile), [16]);
    const lying = { [brand]: true, code: 1001, get message(): string { throw new Error('trap'); } };
    assert.deepEqual(toWireError(lying), [16]);
    assert.deepEqual(toWireError(new RemoteError(14)), [14]);
    assert.deepEqual(toWireError({ [brand]: true, code: 14, message: 'Method not found', info: 'not an array' }), [14]);
  });
});
