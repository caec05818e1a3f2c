import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { ErrorCode, ProtocolError } from '../../lib/protocol/errors';
import { FrameDecoder } from '../../lib/transport/framing';

const collect = (max = 1024) => {
  const messages: string[] = [];
  const errors: ProtocolError[] = [];
  const decoder = new FrameDecoder(max, {
    message: (text) => messages.push(text),
    error: (error) => errors.push(error),
  });
  return { decoder, messages, errors };
};

describe('FrameDecoder', () => {
  it('decodes many messages batched in one chunk', () => {
    const { decoder, messages } = collect();
    decoder.push(Buffer.from('{a:1}\0{b:2}\0{c:3}\0'));
    assert.deepEqual(messages, ['{a:1}', '{b:2}', '{c:3}']);
    assert.equal(decoder.buffered, 0);
  });

  it('joins a message split across chunks and keeps the tail', () => {
    const { decoder, messages } = collect();
    decoder.push(Buffer.from('{hand'));
    decoder.push(Buffer.from('shake:'));
    assert.deepEqual(messages, []);
    assert.equal(decoder.buffered, 11);
    decoder.push(Buffer.from('[0]}\0{ne'));
    assert.deepEqual(messages, ['{handshake:[0]}']);
    decoder.push(Buffer.from('xt:1}\0'));
    assert.deepEqual(messages, ['{handshake:[0]}', '{next:1}']);
    assert.equal(decoder.buffered, 0);
  });

  it('decodes UTF-8 characters split across chunks', () => {
    const { decoder, messages } = collect();
    const bytes = Buffer.from("{text:'ж€😀'}\0");
    // Cut inside every multi-byte sequence: one byte at a time.
    for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1));
    assert.deepEqual(messages, ["{text:'ж€😀'}"]);
  });

  it('delivers an empty message as an empty string', () => {
    const { decoder, messages } = collect();
    decoder.push(Buffer.from('\0\0{}\0'));
    assert.deepEqual(messages, ['', '', '{}']);
  });

  it('accepts a message of exactly maxMessageSize bytes', () => {
    const { decoder, messages, errors } = collect(4);
    decoder.push(Buffer.from('ab'));
    decoder.push(Buffer.from('cd\0'));
    assert.deepEqual(messages, ['abcd']);
    assert.equal(errors.length, 0);
  });

  it('reports oversize as soon as the limit is passed, before the NUL', () => {
    const { decoder, messages, errors } = collect(10);
    decoder.push(Buffer.from('{ok:1}\0'));
    decoder.push(Buffer.from('x'.repeat(6)));
    assert.equal(errors.length, 0);
    decoder.push(Buffer.from('x'.repeat(5))); // 11 bytes, no NUL yet
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ProtocolError);
    assert.equal(errors[0].code, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(decoder.halted, true);
    assert.equal(decoder.buffered, 0);
    // Nothing more is reported once halted.
    decoder.push(Buffer.from('\0{later:1}\0'));
    assert.deepEqual(messages, ['{ok:1}']);
    assert.equal(errors.length, 1);
  });

  it('reports oversize inside a single chunk, after the messages before it', () => {
    const { decoder, messages, errors } = collect(5);
    decoder.push(Buffer.from('{a:1}\0{toolong}\0{b:2}\0'));
    assert.deepEqual(messages, ['{a:1}']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('counts the limit in bytes, not UTF-16 units', () => {
    const { decoder, errors } = collect(5);
    decoder.push(Buffer.from('жжж')); // 3 chars, 6 bytes
    assert.equal(errors.length, 1);
  });

  it('stops mid-chunk when the sink halts it', () => {
    const messages: string[] = [];
    const decoder: FrameDecoder = new FrameDecoder(100, {
      message: (text) => {
        messages.push(text);
        decoder.halt();
      },
      error: () => assert.fail('no error expected'),
    });
    decoder.push(Buffer.from('1\x002\x003\0'));
    assert.deepEqual(messages, ['1']);
  });

  it('rejects an invalid limit', () => {
    assert.throws(() => collect(Number.NaN), RangeError);
  });

  it('decodes any message list cut at any chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        (list, cuts) => {
          const bytes = Buffer.from(list.map((m) => m + '\0').join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))]
            .sort((a, b) => a - b);
          const { decoder, messages, errors } = collect(1 << 20);
          let from = 0;
          for (const point of [...points, bytes.length]) {
            decoder.push(bytes.subarray(from, point));
            from = point;
          }
          assert.equal(errors.length, 0);
          // Lone surrogates do not survive UTF-8; compare what they become.
          const expected = list.map((m) => Buffer.from(m).toString('utf8'));
          assert.deepEqual(messages, expected);
          assert.equal(decoder.buffered, 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches a per-message model for any bytes, any limit and any cuts', () => {
    // Invalid UTF-8 included: decoding a run of messages at once must give
    // what decoding each one alone gives, and the limit must hold for each.
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 0, max: 48 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (terminated, tail, max, cuts) => {
          const messagesBytes = terminated.map((bytes) => Buffer.from(bytes.map((b) => b || 1)));
          const tailBytes = Buffer.from(tail.map((b) => b || 1));
          const bytes = Buffer.concat([...messagesBytes.flatMap((m) => [m, Buffer.from([0])]), tailBytes]);
          const expected: string[] = [];
          let tooLarge = false;
          for (const message of messagesBytes) {
            if (message.length > max) {
              tooLarge = true;
              break;
            }
            expected.push(message.toString('utf8'));
          }
          if (!tooLarge && tailBytes.length > max) tooLarge = true;
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const { decoder, messages, errors } = collect(max);
          let from = 0;
          for (const point of [...points, bytes.length]) {
            decoder.push(bytes.subarray(from, point));
            from = point;
          }
          assert.deepEqual(messages, expected);
          assert.equal(errors.length, tooLarge ? 1 : 0);
          if (!tooLarge) assert.equal(decoder.buffered, tailBytes.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
