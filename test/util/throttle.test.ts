/**
 * The warning throttle: a stranger who makes the server warn again and
 * again (refused restores, evictions) gets the first few lines of each
 * interval logged, and the rest counted in one line.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle } from '../../lib/util/throttle';
import { delay } from '../helpers/fixtures';

it('logs a burst per interval, then one line counting the rest', async () => {
  const lines: string[] = [];
  const throttle = new LogThrottle((line) => lines.push(line), 3, 100);
  for (let i = 0; i < 25; i++) throttle.log(`refused ${i}`);
  assert.deepEqual(lines, ['refused 0', 'refused 1', 'refused 2']);
  await delay(150);
  assert.deepEqual(lines.slice(3), ['… and 22 more like it in the last 0.1 s']);
  throttle.log('refused again');
  assert.equal(lines.at(-1), 'refused again', 'a new interval starts with its own burst');
});
