import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
  BATCH_FRAME_BYTES,
  BATCH_MAX_CHARS,
  BATCH_SUBPROTOCOL,
  Batch,
  JSTP_SUBPROTOCOL,
  maxFrameSize,
  offeredSubprotocols,
  selectSubprotocol,
  splitBatch,
} from '../../lib/transport/subprotocol';

/** Frames a Batch makes of `messages`, all added in one tick. */
const framesOf = (messages: readonly string[]): string[] => {
  const batch = new Batch();
  const frames: string[] = [];
  for (const message of messages) {
    const full = batch.add(message);
    if (full !== undefined) frames.push(full);
  }
  if (!batch.empty) frames.push(batch.take());
  return frames;
};

describe('WebSocket subprotocols', () => {
  it('offers metarhia-jstp first, tjstp-batch after it unless batching is off', () => {
    assert.deepEqual(offeredSubprotocols(true), [JSTP_SUBPROTOCOL, BATCH_SUBPROTOCOL]);
    assert.deepEqual(offeredSubprotocols(false), [JSTP_SUBPROTOCOL]);
  });

  it('selects tjstp-batch wherever it is offered, else metarhia-jstp, else nothing', () => {
    assert.equal(selectSubprotocol([JSTP_SUBPROTOCOL, BATCH_SUBPROTOCOL], true), BATCH_SUBPROTOCOL);
    assert.equal(selectSubprotocol([BATCH_SUBPROTOCOL], true), BATCH_SUBPROTOCOL);
    assert.equal(selectSubprotocol(new Set(['chat', JSTP_SUBPROTOCOL]), true), JSTP_SUBPROTOCOL);
    assert.equal(selectSubprotocol([JSTP_SUBPROTOCOL, BATCH_SUBPROTOCOL], false), JSTP_SUBPROTOCOL);
    assert.equal(selectSubprotocol([BATCH_SUBPROTOCOL], false), false);
    assert.equal(selectSubprotocol(['chat'], true), false);
    assert.equal(selectSubprotocol([], true), false);
  });

  it('lets a receiver take a full batch or one message of the largest size', () => {
    assert.equal(maxFrameSize(1000), BATCH_FRAME_BYTES);
    assert.equal(maxFrameSize(1024 * 1024), 1024 * 1024 + 1);
    // The worst case of a batch: three UTF-8 bytes for every code unit.
    assert.ok(BATCH_MAX_CHARS * 3 <= BATCH_FRAME_BYTES);
  });

  it('terminates every message and cuts batches before the limit', () => {
    assert.deepEqual(framesOf(['{a:1}', '{b:2}']), ['{a:1}\0{b:2}\0']);
    const big = 'x'.repeat(BATCH_MAX_CHARS * 2);
    assert.deepEqual(framesOf(['{a:1}', big, '{b:2}']), ['{a:1}\0', `${big}\0`, '{b:2}\0']);
    const batch = new Batch();
    assert.equal(batch.empty, true);
    assert.equal(batch.take(), '');
  });

  it('splits a batch frame, and refuses one without a final terminator', () => {
    assert.deepEqual(splitBatch('{a:1}\0'), ['{a:1}']);
    assert.deepEqual(splitBatch('{a:1}\0\0{b:2}\0'), ['{a:1}', '', '{b:2}']);
    assert.equal(splitBatch('{a:1}'), undefined);
    assert.equal(splitBatch('{a:1}\0{b:2}'), undefined);
    assert.equal(splitBatch(''), undefined);
  });

  it('property: frames carry every message once, in order, and stay within the limit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 40 }),
            fc.string({ unit: 'binary', maxLength: BATCH_MAX_CHARS + 50 }),
          ).map((text) => text.replace(/\0/g, '')),
          { maxLength: 80 },
        ),
        (messages) => {
          const frames = framesOf(messages);
          const back = frames.flatMap((frame) => {
            const parts = splitBatch(frame);
            assert.ok(parts, 'every frame ends with a terminator');
            return parts;
          });
          assert.deepEqual(back, messages);
          for (const frame of frames) {
            const count = splitBatch(frame)!.length;
            if (count > 1) assert.ok(frame.length <= BATCH_MAX_CHARS, `${count} messages in ${frame.length} chars`);
            assert.ok(Buffer.byteLength(frame) <= Math.max(BATCH_FRAME_BYTES, frame.length * 3));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
