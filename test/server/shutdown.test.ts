/**
 * Graceful shutdown: the server stops accepting, lets calls in flight
 * finish and answers them, refuses new calls with code 23 meanwhile, then
 * says goodbye and closes.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, connect } from '../../lib/index';
import { delay, startServer } from '../helpers/fixtures';

it('finishes calls in flight, refuses new ones, then closes', async () => {
  const fixture = await startServer();
  const client = await fixture.connect('tcp', { reconnect: false });
  const running = client.call('ledger', 'record', 'drain', 150);
  await delay(20);
  const closed = fixture.server.close();
  await delay(20);
  await assert.rejects(client.call('calc', 'add', 1, 2), (e: unknown) => e instanceof RemoteError && e.code === 23);
  await assert.rejects(connect(fixture.url.tcp, { app: 'testApp' }), /ECONNREFUSED/);
  assert.equal(await running, 'drain', 'the call in flight was answered');
  await closed;
  assert.equal(fixture.app.executions.get('drain'), 1);
  assert.equal(client.state, 'closed', 'the client was told and, without reconnect, stopped');
});

it('gives up waiting after drainTimeout', async () => {
  const fixture = await startServer({ drainTimeout: 50 });
  const client = await fixture.connect('tcp', { reconnect: false });
  const stuck = client.call('ledger', 'record', 'stuck', 5000);
  stuck.catch(() => {});
  await delay(20);
  const started = Date.now();
  await fixture.server.close();
  assert.ok(Date.now() - started < 2000, 'closed without waiting for the stuck call');
  client.close();
});
