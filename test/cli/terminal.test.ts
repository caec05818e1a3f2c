/**
 * `tjstp connect` on a real terminal: a tmux pane against a real server.
 * A hidden password, a call, tab completion, an event arriving while a line
 * is half typed, drops with calls made offline, and the history file.
 * The steps run in order on one session. Skipped where tmux is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, type Fixture } from '../helpers/fixtures';
import { CLI, Pane, secretPassword, tmuxAvailable } from './cli';

const skip = tmuxAvailable() ? false : 'tmux is not installed (apt-get install tmux): the terminal tests need it';

/** Lines of the screen that are exactly `text`. */
const hasLine = (text: string) => (screen: string): boolean => screen.split('\n').some((line) => line.trimEnd() === text);

describe('tjstp connect on a terminal', { skip }, () => {
  let fixture: Fixture;
  let pane: Pane;
  let history: string;

  before(async () => {
    fixture = await startServer({ authenticate: secretPassword });
    pane = await Pane.start([process.execPath, CLI, 'connect', fixture.url.tcp, 'testApp', '--login', 'ann'], {
      TERM: 'xterm-256color',
      TJSTP_HISTORY: '',
    });
    history = path.join(pane.dir, 'history');
  });

  after(async () => {
    await pane?.close();
    await fixture?.close();
  });

  it('asks the password without echo, then connects', async () => {
    await pane.waitFor(/Password for ann:$/, 'the password prompt');
    await pane.enter('secret');
    const screen = await pane.waitFor(/testApp>$/, 'the prompt');
    assert.match(screen, /Connected to tcp:\/\/127\.0\.0\.1:\d+ \(session .{4}…\)\./);
    assert.doesNotMatch(screen, /secret/);
  });

  it('calls a method and shows the result, and an error with its code', async () => {
    await pane.enter('calc.add(1, 2)');
    await pane.waitFor(hasLine('3'), 'the result');
    await pane.enter('calc.nope()');
    await pane.waitFor(hasLine('Error 14: Method not found'), 'the error');
  });

  it('completes interfaces, methods and commands with Tab', async () => {
    await pane.type('cal');
    await pane.press('Tab');
    await pane.waitForLastLine('testApp> calc.');
    await pane.type('a');
    await pane.press('Tab');
    await pane.waitForLastLine('testApp> calc.add(');
    await pane.enter('20, 22)');
    await pane.waitFor(hasLine('42'), 'the completed call');
    await pane.type('.ses');
    await pane.press('Tab');
    await pane.waitForLastLine('testApp> .session');
    await pane.press('C-u');
    await pane.waitForLastLine('testApp>');
  });

  it('prints an event above the line being typed and keeps that line intact', async () => {
    await pane.type('calc.add(2');
    await pane.waitForLastLine('testApp> calc.add(2');
    fixture.server.broadcast('testApp', 'events', 'news', ['breaking']);
    const event = "event events.news('breaking')";
    // The redraw is not atomic for tmux: wait for the prompt to be back, then look.
    const screen = await pane.waitFor((text) => hasLine(event)(text) && text.endsWith('\ntestApp> calc.add(2'), 'the event above the prompt');
    const lines = screen.split('\n');
    assert.equal(lines[lines.length - 2], event, 'printed right above the prompt line');
    await pane.enter(', 3)');
    await pane.waitFor(hasLine('5'), 'the call typed around the event');
  });

  it('drops the connection, queues a call made offline, and shows the resume', async () => {
    // The network stays down until .reconnect ends the outage: no race with the clock.
    await pane.enter('.drop 60000');
    await pane.waitFor(/dropped the connection on purpose; the network stays down for 1 min 0 s/, 'the drop');
    await pane.waitFor(/reconnecting in [\d.]+ m?s \(attempt 1\)/, 'the first reconnection attempt');
    await pane.waitForLastLine(/^testApp \((offline|connecting)\)>$/);
    await pane.enter('counter.increment()');
    await pane.enter('.reconnect');
    await pane.waitFor(/resumed session .{4}… after [\d.]+ m?s offline: replayed 1 by us, 0 by the server/, 'the resume');
    await pane.waitFor(hasLine('counter.increment() → 1'), 'the result of the call made offline, labelled: other lines came since');
    await pane.enter('.session');
    await pane.waitFor(/resumes\s+1; last after [\d.]+ m?s offline: replayed 1 by us, 0 by the server/, 'the session view');
  });

  it('.drop N resumes N ms later; results show one way, labelled unless right under their line; nothing returned shows ok', async () => {
    await pane.enter('calc.nothing()');
    await pane.waitFor(hasLine('ok'), 'a call that returns nothing');
    await pane.enter('.drop 3000');
    await pane.waitFor(/the network stays down for 3\.0 s/, 'the drop');
    await pane.waitForLastLine(/^testApp \((offline|connecting)\)>$/);
    await pane.enter('calc.nothing()');
    await pane.enter('calc.add(1, 1)');
    // Only what follows this drop: an earlier resume's line must not count.
    const sinceDrop = (screen: string): string => screen.slice(screen.lastIndexOf('testApp> .drop 3000'));
    const screen = await pane.waitFor((text) => hasLine('calc.add(1, 1) → 2')(sinceDrop(text)), 'the results of the calls made offline', 8000);
    const lines = sinceDrop(screen).split('\n').map((line) => line.trimEnd());
    const resume = lines.find((line) => line.includes('resumed session')) ?? '';
    assert.match(resume, /after 3\.[0-4] s offline: replayed 2 by us/, 'the resume came right when the network was back');
    assert.ok(lines.includes('calc.nothing() → ok'), sinceDrop(screen));
    assert.ok(!lines.includes('2'), 'the last line entered is labelled too: the resume was printed above it');
  });

  it('leaves on .exit with code 0', async () => {
    await pane.enter('.exit');
    await pane.waitFor(/\[exited 0\]/, 'the exit');
  });

  it('keeps the history in a file across runs', async () => {
    fs.writeFileSync(history, 'calc.add(40, 2)\n');
    const second = await Pane.start([process.execPath, CLI, 'connect', fixture.url.tcp, 'testApp', '--login', 'ann', '--password-env', 'PW'], {
      TERM: 'xterm-256color',
      NO_COLOR: '1',
      PW: 'secret',
      TJSTP_HISTORY: history,
    });
    try {
      await second.waitFor(/testApp>$/, 'the prompt');
      await second.press('Up');
      await second.waitForLastLine('testApp> calc.add(40, 2)');
      await second.press('Enter');
      await second.waitFor(hasLine('42'), 'the result of the recalled line');
      await second.enter('.exit');
      await second.waitFor(/\[exited 0\]/, 'the exit');
      assert.equal(fs.readFileSync(history, 'utf8'), 'calc.add(40, 2)\n.exit\n');
    } finally {
      await second.close();
    }
  });
});
