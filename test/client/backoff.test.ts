import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../lib/client/backoff';

describe('Backoff', () => {
  it('grows exponentially up to the cap, with jitter below each step', () => {
    const backoff = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 }, () => 0);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => backoff.next()), [100, 200, 400, 800, 1000, 1000]);
    const jittered = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 }, () => 1);
    assert.deepEqual([1, 2, 3].map(() => jittered.next()), [50, 100, 200]);
  });

  it('starts over after a success', () => {
    const backoff = new Backoff({ initialDelay: 10, jitter: 0 });
    backoff.next();
    backoff.next();
    assert.equal(backoff.attempt, 2);
    backoff.reset();
    assert.equal(backoff.next(), 10);
  });

  it('refuses nonsense options', () => {
    assert.throws(() => new Backoff({ initialDelay: 10, maxDelay: 5 }), RangeError);
    assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
    assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
  });
});
