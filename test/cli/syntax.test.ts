/**
 * The REPL's input language: calls with literal arguments, signatures,
 * events, the reference CLI's forms and dot commands, without eval.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readStatements, splitStatements, type Command } from '../../lib/cli/repl/syntax';

const read = (line: string): (Command | { error: string; column: number | undefined })[] =>
  readStatements(line).map((r) => ('command' in r ? r.command : { error: r.error.message, column: r.error.column }));

describe('REPL syntax', () => {
  it('reads calls whose arguments are JavaScript literals', () => {
    assert.deepEqual(read('calc.add(1, 2)'), [{ kind: 'call', iface: 'calc', method: 'add', args: [1, 2] }]);
    assert.deepEqual(read("chat.say({ room: 'x', text: \"hi\", tags: [1, -2.5e1, null, true], /* note */ })"), [
      { kind: 'call', iface: 'chat', method: 'say', args: [{ room: 'x', text: 'hi', tags: [1, -25, null, true] }] },
    ]);
    assert.deepEqual(read('calc.nothing()'), [{ kind: 'call', iface: 'calc', method: 'nothing', args: [] }]);
    assert.deepEqual(read('auth.user.login("ann")'), [{ kind: 'call', iface: 'auth.user', method: 'login', args: ['ann'] }]);
    assert.deepEqual(read('$tjstp.interfaces()'), [{ kind: 'call', iface: '$tjstp', method: 'interfaces', args: [] }]);
    assert.deepEqual(read("calc.echo(')', '(;')"), [{ kind: 'call', iface: 'calc', method: 'echo', args: [')', '(;'] }]);
  });

  it('never evaluates: code in the arguments is a syntax error with its column', () => {
    assert.deepEqual(read('calc.add(1 2)'), [{ error: 'Unexpected character "2" in the arguments', column: 11 }]);
    assert.deepEqual(read("calc.echo(require('fs'))"), [{ error: 'Unexpected identifier "require" in the arguments', column: 10 }]);
    assert.deepEqual(read('calc.echo(`x`)'), [{ error: 'Unexpected character "`" in the arguments', column: 10 }]);
    assert.deepEqual(read('calc.add(1, 2'), [{ error: 'Missing ")" at the end', column: 13 }]);
    assert.deepEqual(read('calc.add(1) extra'), [{ error: 'Unexpected text after the arguments', column: 12 }]);
    assert.deepEqual(read('x = 1'), [{ error: 'Expected iface.method(args), iface.method? or a .command (.help lists them)', column: 0 }]);
  });

  it('splits statements at ; outside strings, brackets and comments', () => {
    assert.deepEqual(splitStatements("a.b(1); c.d('x;y') ;; e.f({ k: ';' }) // g.h()"), [
      { text: 'a.b(1)', offset: 0 },
      { text: "c.d('x;y')", offset: 8 },
      { text: "e.f({ k: ';' })", offset: 22 },
    ]);
    assert.deepEqual(splitStatements('  # a comment; calc.add(1, 2)'), []);
    assert.deepEqual(splitStatements('// a comment; calc.add(1, 2)'), []);
    const [first, second] = readStatements('calc.add(1); calc.add(1 2)');
    assert.ok(first && 'command' in first);
    assert.ok(second && 'error' in second);
    assert.equal(second.error.column, 24, 'columns index the whole line');
  });

  it('shows signatures for bare names and names ending in ?', () => {
    assert.deepEqual(read('calc'), [{ kind: 'describe', iface: 'calc' }]);
    assert.deepEqual(read('calc.add'), [{ kind: 'describe', iface: 'calc', method: 'add' }]);
    assert.deepEqual(read('calc.add?'), [{ kind: 'describe', iface: 'calc', method: 'add' }]);
    assert.deepEqual(read('.describe'), [{ kind: 'describe' }]);
    assert.deepEqual(read('.d calc'), [{ kind: 'describe', iface: 'calc' }]);
  });

  it('reads the reference jstp-cli forms', () => {
    assert.deepEqual(read('call calc add 1, 2'), [{ kind: 'call', iface: 'calc', method: 'add', args: [1, 2] }]);
    assert.deepEqual(read('call calc nothing'), [{ kind: 'call', iface: 'calc', method: 'nothing', args: [] }]);
    assert.deepEqual(read("event chat typing 'ann', true"), [{ kind: 'emit', iface: 'chat', name: 'typing', args: ['ann', true] }]);
  });

  it('reads the dot commands and rejects bad ones', () => {
    assert.deepEqual(read('.emit chat.typing(true)'), [{ kind: 'emit', iface: 'chat', name: 'typing', args: [true] }]);
    assert.deepEqual(read('.events'), [{ kind: 'events' }]);
    assert.deepEqual(read('.events off chat'), [{ kind: 'events', enable: false, iface: 'chat' }]);
    assert.deepEqual(read('.session; .status'), [{ kind: 'session' }, { kind: 'session' }]);
    assert.deepEqual(read('.drop; .drop 250'), [{ kind: 'drop', ms: 0 }, { kind: 'drop', ms: 250 }]);
    assert.deepEqual(read('.reconnect ws://127.0.0.1:8000'), [{ kind: 'reconnect', url: 'ws://127.0.0.1:8000' }]);
    assert.deepEqual(read('.verbose all'), [{ kind: 'verbose', level: 2 }]);
    assert.deepEqual(read('.wait 10; .help; .quit'), [{ kind: 'wait', ms: 10 }, { kind: 'help' }, { kind: 'exit' }]);
    assert.deepEqual(read('.drop soon'), [{ error: '.drop expects a number of milliseconds, not "soon"', column: undefined }]);
    assert.deepEqual(read('.events maybe'), [{ error: 'Usage: .events [on|off] [iface]', column: undefined }]);
    assert.deepEqual(read('.frobnicate'), [{ error: 'Unknown command .frobnicate (.help lists them)', column: 0 }]);
  });
});
