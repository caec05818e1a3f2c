/**
 * The message layer: what is accepted, what is refused with a clear
 * ProtocolError, and that everything we send parses as plain JSON with the
 * header key first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../lib/protocol/errors';
import {
  decodeMessage,
  encodeCall,
  encodeCallbackError,
  encodeCallbackOk,
  encodeClose,
  encodeControl,
  encodeEvent,
  encodeHandshakeError,
  encodeHello,
  encodeInspect,
  encodeWelcome,
} from '../../lib/protocol/message';

describe('decodeMessage', () => {
  const accepted: [string, unknown][] = [
    ['{"call":[1,"calc"],"add":[1,2]}', { kind: 'call', id: 1, iface: 'calc', method: 'add', args: [1, 2] }],
    ["{call:[9,'calc'],slowAdd:[5,5]}", { kind: 'call', id: 9, iface: 'calc', method: 'slowAdd', args: [5, 5] }],
    ['{"callback":[2],"ok":[5]}', { kind: 'callback', id: 2, seq: undefined, ok: [5], error: undefined }],
    ['{"callback":[2,-7],"ok":[]}', { kind: 'callback', id: 2, seq: -7, ok: [], error: undefined }],
    ["{callback:[6],error:[14]}", { kind: 'callback', id: 6, seq: undefined, ok: undefined, error: [14] }],
    ['{callback:[6],error:-1}', { kind: 'callback', id: 6, seq: undefined, ok: undefined, error: [-1] }],
    ["{callback:[7],ok:[1,,3,undefined]}", { kind: 'callback', id: 7, seq: undefined, ok: [1, undefined, 3, undefined], error: undefined }],
    ["{event:[-1,'calc'],tick:['A',0]}", { kind: 'event', id: -1, iface: 'calc', name: 'tick', args: ['A', 0] }],
    ["{inspect:[1,'calc']}", { kind: 'inspect', id: 1, iface: 'calc' }],
    ['{ping:[-11]}', { kind: 'ping', id: -11 }],
    ['{pong:[-11]}', { kind: 'pong', id: -11 }],
    ['{"ack":[-40]}', { kind: 'ack', id: -40 }],
    ['{}', { kind: 'heartbeat' }],
    ["{handshake:[0,'testApp']}", { kind: 'hello', app: 'testApp', version: undefined, strategy: 'anonymous', credentials: undefined, tjstp: undefined }],
    ["{handshake:[0,'testApp','^1.0.0'],login:['u','p']}", { kind: 'hello', app: 'testApp', version: '^1.0.0', strategy: 'login', credentials: ['u', 'p'], tjstp: undefined }],
    ['{"handshake":[0,"testApp"],"anonymous":null,"tjstp":{"version":1}}', { kind: 'hello', app: 'testApp', version: undefined, strategy: 'anonymous', credentials: null, tjstp: { version: 1 } }],
    ['{"handshake":[0,"testApp"],"tjstp":{"version":1}}', { kind: 'hello', app: 'testApp', version: undefined, strategy: 'anonymous', credentials: undefined, tjstp: { version: 1 } }],
    ['{"handshake":[0,"testApp"],"login":["u","p"],"tjstp":{"version":1}}', { kind: 'hello', app: 'testApp', version: undefined, strategy: 'login', credentials: ['u', 'p'], tjstp: { version: 1 } }],
    ["{handshake:[0],ok:'id'}", { kind: 'welcome', ok: 'id', error: undefined, tjstp: undefined }],
    ['{handshake:[0],ok:13}', { kind: 'welcome', ok: 13, error: undefined, tjstp: undefined }],
    ['{handshake:[0],error:[11]}', { kind: 'welcome', ok: undefined, error: [11], tjstp: undefined }],
    ['{"close":[0],"error":[20,"bad"]}', { kind: 'close', error: [20, 'bad'] }],
  ];
  for (const [text, expected] of accepted) {
    it(`accepts ${text}`, () => assert.deepEqual(decodeMessage(text), expected));
  }

  const refused: [string, RegExp][] = [
    ['null', /not an object/],
    ['[1]', /not an object/],
    ['42', /not an object/],
    ['"x"', /not an object/],
    ['', /Malformed/],
    ['{call:[1,', /Malformed/],
    ['{"call":1,"add":[]}', /header is not an array/],
    ["{call:['1','calc'],add:[1,2]}", /no integer id/],
    ['{"call":[1.5,"calc"],"add":[]}', /no integer id/],
    ['{"call":[1],"add":[]}', /no interface name/],
    ['{"call":[1,"calc"]}', /no method name/],
    ['{"call":[1,"calc"],"add":5}', /not an array/],
    ['{"event":[1,"calc"],"tick":null}', /not an array/],
    ['{"callback":[1],"ok":5}', /ok is not an array/],
    ['{"callback":[1]}', /neither/],
    ['{"callback":[1,"x"],"ok":[]}', /sequence number/],
    ['{"foo":[1]}', /Unknown message kind "foo"/],
    ['{"handshake":[0]}', /neither "ok" nor "error"/],
    ['{"handshake":[0,"app",5]}', /version is not a string/],
  ];
  for (const [text, pattern] of refused) {
    it(`refuses ${JSON.stringify(text)} with a clear ProtocolError`, () => {
      assert.throws(() => decodeMessage(text), (error: unknown) => error instanceof ProtocolError && pattern.test(error.message));
    });
  }

  it('throws only ProtocolError, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ call: v, x: v }))), (text) => {
        try {
          decodeMessage(text);
        } catch (error) {
          assert.ok(error instanceof ProtocolError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encoders', () => {
  const sent = [
    encodeCall(1, 'calc', 'add', [1, 2]),
    encodeCall(2, 'it\'s "q"', 'm-1', [undefined, NaN, Infinity, { a: undefined }]),
    encodeEvent(-3, 'chat', 'message', ['hi']),
    encodeInspect(4, 'calc'),
    encodeCallbackOk(5, -6, [3]),
    encodeCallbackOk(5, undefined, []),
    encodeCallbackError(7, -8, [14]),
    encodeControl('ping', -9),
    encodeControl('pong', -9),
    encodeControl('ack', 10),
    encodeClose([20, 'bad']),
    encodeHello({ app: 'a' }),
    encodeHello({ app: 'a', version: '^1.0.0', strategy: 'login', credentials: ['u', 'p'] }),
    encodeHello({ app: 'a', strategy: 'session', credentials: ['id', 3, 4] }),
    encodeWelcome('id', { version: 1 }),
    encodeWelcome([1, 2]),
    encodeHandshakeError([11, 'Session expired', 'expired']),
  ];
  for (const text of sent) {
    it(`sends plain JSON, header first, that decodes back: ${text}`, () => {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const kind = Object.keys(parsed)[0];
      assert.ok(['call', 'event', 'inspect', 'callback', 'ping', 'pong', 'ack', 'close', 'handshake'].includes(kind as string));
      assert.doesNotThrow(() => decodeMessage(text));
    });
  }

  it('never emits NaN or Infinity (the reference cannot parse them)', () => {
    assert.equal(encodeCall(1, 'a', 'b', [NaN, Infinity, -Infinity]), '{"call":[1,"a"],"b":[null,null,null]}');
  });

  it('refuses values JSON cannot carry, with an error to catch', () => {
    assert.throws(() => encodeCall(1, 'a', 'b', [BigInt(1)]), TypeError);
  });
});
