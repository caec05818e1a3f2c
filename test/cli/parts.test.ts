/**
 * The small pieces of `tjstp connect`: its command line, the event filter,
 * the history file and how errors and values are printed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventFilter } from '../../lib/cli/repl/event-filter';
import { historyFile, loadHistory, saveHistory } from '../../lib/cli/repl/history';
import { parseConnectArgs } from '../../lib/cli/repl/options';
import { errorJson, formatError, formatEvent, formatResults, maskId } from '../../lib/cli/repl/printer';
import { InputError } from '../../lib/cli/repl/syntax';
import { RemoteError, SessionLostError } from '../../lib/index';

const plain = { colors: false };

describe('connect command line', () => {
  it('reads positionals and flags in any order', () => {
    const options = parseConnectArgs(['--login=ann', 'tcp://h:1', '-vv', 'app@^1.0.0', 'calc', '-e', 'calc.add(1, 2)', '--eval', '.session', '-R', '--call-timeout', '500']);
    assert.deepEqual(options, {
      url: 'tcp://h:1',
      app: 'app@^1.0.0',
      interfaces: ['calc'],
      login: 'ann',
      eval: ['calc.add(1, 2)', '.session'],
      verbose: 2,
      reconnect: false,
      callTimeout: 500,
      insecure: false,
      help: false,
    });
  });

  it('refuses what it cannot use', () => {
    assert.throws(() => parseConnectArgs(['tcp://h:1']), /expected URL and APP/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '--bogus']), /unknown option --bogus/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '--heartbeat', 'soon']), /--heartbeat expects a number/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '--password-env', 'PW']), /--password-env needs --login/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '--eval']), /--eval needs a value/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '-e']), /^UsageError: --eval needs a value$/);
    assert.throws(() => parseConnectArgs(['-x', 'tcp://h:1', 'app']), /^UsageError: unknown option -x$/);
    assert.throws(() => parseConnectArgs(['tcp://h:1', 'app', '--insecure=yes']), /--insecure' does not take an argument/);
  });

  it('lets a later flag win, counts -v, and reads --flag=value and --help', () => {
    const options = parseConnectArgs(['tcp://h:1', 'app', '--color', '--no-color', '--no-events', '--events', '-v', '--heartbeat=0', '--ca=ca.pem', '--insecure']);
    assert.deepEqual([options.color, options.events, options.verbose, options.heartbeat, options.ca, options.insecure], [false, true, 1, 0, 'ca.pem', true]);
    assert.equal(parseConnectArgs(['tcp://h:1', 'app', '-v', '--verbose', '-v']).verbose, 2);
    assert.equal(parseConnectArgs(['--help']).help, true, 'no URL needed');
    assert.equal(parseConnectArgs(['-h']).help, true);
  });
});

describe('event filter', () => {
  it('shows all, none, or all but / only some interfaces', () => {
    const filter = new EventFilter(true);
    filter.set(false, 'calc');
    assert.deepEqual([filter.shows('calc'), filter.shows('chat'), filter.describe()], [false, true, 'all but calc']);
    filter.set(false);
    filter.set(true, 'chat');
    assert.deepEqual([filter.shows('calc'), filter.shows('chat'), filter.describe()], [false, true, 'only chat']);
    filter.set(false, 'chat');
    assert.equal(filter.describe(), 'none');
  });
});

describe('history file', () => {
  it('follows TJSTP_HISTORY, is disabled by an empty value, and is private', () => {
    assert.deepEqual(historyFile({}, '/home/u'), { path: '/home/u/.tjstp_history', size: 1000 });
    assert.deepEqual(historyFile({ TJSTP_HISTORY: '' }, '/home/u'), { path: undefined, size: 1000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-history-'));
    try {
      const history = historyFile({ TJSTP_HISTORY: path.join(dir, 'h'), TJSTP_HISTORY_SIZE: '2' }, '/home/u');
      assert.deepEqual(loadHistory(history), []);
      assert.equal(saveHistory(history, ['c()', 'b()', 'a()']), undefined);
      assert.equal(fs.readFileSync(path.join(dir, 'h'), 'utf8'), 'b()\nc()\n', 'oldest first, capped');
      assert.equal(fs.statSync(path.join(dir, 'h')).mode & 0o777, 0o600);
      assert.deepEqual(loadHistory(history), ['c()', 'b()']);
      assert.ok(saveHistory({ path: path.join(dir, 'missing', 'h'), size: 5 }, ['x']) instanceof Error, 'errors are returned, not thrown');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('printer', () => {
  it('shows errors with their code, message, info and reason', () => {
    assert.equal(formatError(new RemoteError(14), plain), 'Error 14: Method not found');
    assert.equal(formatError(new RemoteError(1001, 'Custom failure', [{ field: 'x' }]), plain), "Error 1001: Custom failure { field: 'x' }");
    assert.equal(formatError(new SessionLostError('expired'), plain), 'Error 26: Session expired (expired)');
    assert.equal(formatError(new InputError('Missing ")"'), plain), 'Syntax error: Missing ")"');
    assert.deepEqual(errorJson(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    assert.match(formatError(new RemoteError(14), { colors: true }), /\u001b\[31mError 14\u001b\[39m/);
  });

  it('shows values, several results and events', () => {
    assert.equal(formatResults([{ a: 1, b: ['x'] }], plain), "{ a: 1, b: [ 'x' ] }");
    assert.equal(formatResults([1, 'two'], plain), "1, 'two'");
    assert.equal(formatResults([], plain), 'ok', 'a method that returns nothing');
    assert.equal(formatResults([null], plain), 'null');
    assert.equal(formatEvent({ iface: 'chat', name: 'message', args: ['hi', { from: 'ann' }] }, plain), "event chat.message('hi', { from: 'ann' })");
    assert.equal(maskId('AbCdEfGh'), 'AbCd…');
  });
});
