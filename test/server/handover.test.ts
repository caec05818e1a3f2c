/**
 * Sessions handed from one server to the next (a restart, a deploy): a
 * suspended server exports them, another imports them, and a client
 * restores there as if it had only lost its connection. What must come
 * along: the key (a leaked id alone still restores nothing), a rotation
 * the client has not confirmed, channel membership, and calls that were
 * running, answered 29 rather than run again. The session file that
 * carries them across a restart is used once and never half-written.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restoreProof } from '../../lib/client/proof';
import { ErrorCode, type ServerSession } from '../../lib/index';
import { readSavedSession } from '../../lib/server/handover';
import { SessionFileError, takeSessionFile, writeSessionFile } from '../../lib/server/session-file';
import type { SavedSession } from '../../lib/server/session-store';
import { delay, startServer, type Fixture } from '../helpers/fixtures';
import { hello, isCallback, openBoundSession, openRaw, rawCall, type Msg, type RawClient } from '../helpers/raw';

const restoreText = (id: string, key: string, sent: number, received: number, nonce = Date.now()): string =>
  JSON.stringify({ handshake: [0, 'testApp'], session: [id, sent, received, nonce, restoreProof(key, id, sent, received, nonce)] });

const isRotate = (message: Msg): boolean => Array.isArray(message.event) && message.event[1] === '$tjstp';
const isNews = (message: Msg): boolean => Array.isArray(message.event) && Array.isArray(message.news);

describe('handing sessions to another server', () => {
  const fixtures: Fixture[] = [];
  const raws: RawClient[] = [];
  const dirs: string[] = [];

  after(async () => {
    for (const raw of raws) raw.destroy();
    await Promise.all(fixtures.map((fixture) => fixture.close()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const server = async (options: Parameters<typeof startServer>[0] = {}): Promise<Fixture> => {
    const fixture = await startServer(options);
    fixtures.push(fixture);
    return fixture;
  };

  it('a bound session moves mid-rotation, with its channels; its key still guards it; a call running at the move is answered 29', async () => {
    const [first, second] = [await server({ drainTimeout: 100 }), await server()];
    const { client, id, key } = await openBoundSession('tcp', first);
    raws.push(client);
    assert.deepEqual((await rawCall(client, 1, 'counter', 'increment', [])).ok, [1]);
    const session = [...first.server.sessions.values()].at(-1) as ServerSession;
    first.server.channels.join(session, 'room');
    assert.equal(first.server.rotateSession(session), true);
    await client.waitMessage(isRotate); // received, not acknowledged
    client.send(JSON.stringify({ call: [2, 'calc'], slowEcho: ['late', 1000] }));
    await delay(50);

    await first.server.suspend();
    const saved = JSON.parse(JSON.stringify(first.server.exportSessions())) as SavedSession[];
    assert.equal(saved.length, 1);
    assert.deepEqual(saved[0]!.record.inDoubt, [2], 'the running call is recorded as in doubt');
    assert.equal(saved[0]!.record.previous?.length, 1, 'the id before the rotation is still accepted');
    assert.deepEqual(saved[0]!.record.channels, ['room']);
    assert.equal(first.server.sessions.size, 0, 'exported sessions leave the old server');

    const report = second.server.importSessions(saved);
    assert.deepEqual(report, { revived: 1, inDoubt: 1, skipped: [] });
    assert.deepEqual(second.server.importSessions(saved).skipped, [{ app: 'testApp', why: 'already here' }]);
    assert.equal(second.server.channels.publish('testApp', 'room', 'events', 'news', ['to the room']), 1, 'held, and still a member');
    assert.equal(second.server.broadcast('testApp', 'events', 'news', ['to everyone']), 1);

    // Someone with the id but not the key gets nothing.
    const thief = await openRaw('tcp', second);
    raws.push(thief);
    assert.equal((await hello(thief, JSON.stringify({ handshake: [0, 'testApp'], session: [id, 2] }))).ok, undefined);

    // The owner, with the id and key it had before the rotation.
    const owner = await openRaw('tcp', second);
    raws.push(owner);
    assert.deepEqual((await hello(owner, restoreText(id, key, 2, 2))).ok, [5, 2]);
    assert.deepEqual((await owner.waitMessage(isCallback(2))).error, [ErrorCode.OUTCOME_UNKNOWN], 'answered 29, not run again');
    await owner.waitMessage((message) => isNews(message) && (message.news as string[])[0] === 'to everyone');
    const news = owner.messages.filter(isNews).map((message) => (message.news as string[])[0]);
    assert.deepEqual(news, ['to the room', 'to everyone'], 'in order, once each');
    assert.deepEqual((await rawCall(owner, 3, 'counter', 'increment', [])).ok, [2], 'the state came along');
  });

  it('takes the newest version of an application when the saved one is gone, and skips records it cannot trust', async () => {
    const target = await server();
    const good = {
      key: 'k'.repeat(43),
      record: { app: 'testApp', version: '0.9.0', user: null, state: { counter: 4 }, peer: { lastSeq: 1, received: 1, acked: 0, outbox: [[1, '{"callback":[1,1],"ok":[4]}']] }, channels: [], createdAt: 1 },
    };
    const broken = (change: Record<string, unknown>): unknown => ({ ...good, record: { ...good.record, ...change } });
    const cases: [unknown, string][] = [
      [null, 'not a saved session'],
      [{ key: '', record: good.record }, 'not a saved session'],
      [broken({ app: 1 }), 'no application'],
      [broken({ state: [] }), 'bad state'],
      [broken({ peer: { lastSeq: 1, received: 0, acked: 2, outbox: [] } }), 'bad counters or outbox'],
      [broken({ peer: { lastSeq: 3, received: 0, acked: 0, outbox: [[2, 'b'], [1, 'a']] } }), 'bad counters or outbox'],
      [broken({ peer: { lastSeq: 1, received: 0, acked: 0, outbox: [[2, 'a']] } }), 'bad counters or outbox'],
      [broken({ binding: { secret: 5, nonce: 1 } }), 'bad binding'],
      [broken({ inDoubt: ['1'] }), 'bad calls in doubt'],
    ];
    for (const [value, why] of cases) assert.equal(readSavedSession(value), why, JSON.stringify(value));
    const report = target.server.importSessions([...cases.map(([value]) => value), broken({ app: 'gone' }), good]);
    assert.equal(report.revived, 1);
    assert.equal(report.skipped.length, cases.length + 1);
    assert.deepEqual(report.skipped.at(-1), { app: 'gone', why: 'no such application' });
    assert.equal([...target.server.sessions.values()].at(-1)?.app.version, '1.0.0');
  });

  it('the session file: owner-only, used once, set aside when unreadable, put back when abandoned', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-session-file-'));
    dirs.push(dir);
    const file = path.join(dir, 'nested', 'sessions.json');
    const sessions = [{ key: 'a', record: { state: { n: 1 } } }, { key: 'b', record: { state: { n: 2n } } }] as unknown as SavedSession[];
    const written = await writeSessionFile(file, sessions);
    assert.equal(written.written, 1);
    assert.equal(written.unserializable, 1, 'a BigInt in the state loses that session only');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['sessions.json'], 'no temporary file left');

    const taken = await takeSessionFile(file);
    assert.ok(taken);
    assert.deepEqual(taken.sessions, [{ key: 'a', record: { state: { n: 1 } } }]);
    assert.equal(await takeSessionFile(file), null, 'claimed: a second process gets nothing');
    await taken.abandon();
    const again = await takeSessionFile(file);
    assert.ok(again, 'abandoned: back for the next start');
    await again.commit();
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [], 'committed: gone');

    fs.writeFileSync(file, '{"format":"tjstp-sessions","version":1,"savedAt":1,"sessions":[');
    await assert.rejects(takeSessionFile(file), (error: unknown) => {
      assert.ok(error instanceof SessionFileError);
      assert.match(error.message, /moved to .*unreadable-.*starting without its sessions/);
      assert.ok(error.movedTo !== undefined && fs.existsSync(error.movedTo));
      return true;
    });
    assert.equal(fs.existsSync(file), false, 'the next start is not stuck on it');
    fs.writeFileSync(file, '{"format":"tjstp-sessions","version":9,"savedAt":1,"sessions":[]}');
    await assert.rejects(takeSessionFile(file), /format version 9, this tjstp reads 1/);
  });
});
