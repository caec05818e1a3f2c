/**
 * The rule that tells a reference server's resent events from new ones:
 * an event is a resend when its id and content are those of the last event
 * received under that id, on an earlier connection. The interop tests show
 * it against the real server; these pin each side of the rule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LegacyDedup } from '../../lib/session/legacy-dedup';

describe('LegacyDedup', () => {
  it('drops an event received before under its id, on an earlier connection', () => {
    const dedup = new LegacyDedup();
    dedup.attached();
    assert.equal(dedup.isResent(-3, 'calc', 'tick', ['B', 2]), false);
    dedup.attached();
    assert.equal(dedup.isResent(-3, 'calc', 'tick', ['B', 2]), true);
    dedup.attached();
    assert.equal(dedup.isResent(-3, 'calc', 'tick', ['B', 2]), true, 'again after every restore');
  });

  it('delivers a new event under a reused id with other content, and then knows it', () => {
    const dedup = new LegacyDedup();
    dedup.attached();
    assert.equal(dedup.isResent(-2, 'calc', 'tick', ['B', 1]), false);
    dedup.attached();
    assert.equal(dedup.isResent(-2, 'calc', 'tick', ['C', 0]), false);
    assert.equal(dedup.isResent(-2, 'calc', 'other', ['C', 0]), false, 'the name is content too');
    dedup.attached();
    assert.equal(dedup.isResent(-2, 'calc', 'tick', ['B', 1]), false, 'only the last content under an id counts');
  });

  it('delivers the same id and content twice on one connection: the reference resends an id once per connection', () => {
    const dedup = new LegacyDedup();
    dedup.attached();
    assert.equal(dedup.isResent(-1, 'chat', 'typing', ['ann']), false);
    dedup.attached();
    assert.equal(dedup.isResent(-1, 'chat', 'typing', ['ann']), true);
    assert.equal(dedup.isResent(-1, 'chat', 'typing', ['ann']), false);
  });

  it('remembers the last `limit` ids only', () => {
    const dedup = new LegacyDedup(3);
    dedup.attached();
    for (const id of [-1, -2, -3, -4]) dedup.isResent(id, 'calc', 'tick', [id]);
    dedup.attached();
    assert.equal(dedup.isResent(-1, 'calc', 'tick', [-1]), false, 'forgotten');
    assert.equal(dedup.isResent(-4, 'calc', 'tick', [-4]), true);
  });
});
