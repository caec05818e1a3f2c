/**
 * `serverMetrics()` for code that embeds the server: its own registry or
 * one given, a prefix, only its own server's traffic counted (channels are
 * process-wide), and close() stopping the counting.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { codeLabel, serverMetrics } from '../../lib/index';
import { startServer } from '../helpers/fixtures';
import { parseMetrics, valueOf, type Scrape } from '../helpers/prometheus';

const read = async (registry: Registry): Promise<Scrape> => ({ ...parseMetrics(await registry.metrics()), contentType: registry.contentType });

describe('serverMetrics', () => {
  it('counts its own server only, in the registry given, and stops on close', async () => {
    const mine = await startServer();
    const other = await startServer();
    const registry = new Registry();
    const metrics = await serverMetrics(mine.server, { registry, prefix: 'app_rpc_' });
    assert.equal(metrics.registry, registry);
    try {
      const client = await mine.connect('tcp');
      const stranger = await other.connect('tcp');
      assert.equal(await client.call('calc', 'add', 1, 2), 3);
      assert.equal(await stranger.call('calc', 'add', 1, 2), 3);
      assert.equal(await stranger.call('calc', 'add', 1, 2), 3);
      const scraped = await read(registry);
      assert.equal(valueOf(scraped, 'app_rpc_calls_total', { app: 'testApp', iface: 'calc', method: 'add', code: '0' }), 1);
      assert.equal(valueOf(scraped, 'app_rpc_sessions_opened_total'), 1);
      assert.equal(valueOf(scraped, 'app_rpc_sessions', { state: 'attached' }), 1);
      assert.equal(valueOf(scraped, 'tjstp_calls_total'), 0);
      metrics.close();
      assert.equal(await client.call('calc', 'add', 1, 2), 3);
      assert.equal((await registry.metrics()).trim(), '');
    } finally {
      metrics.close();
      await mine.close();
      await other.close();
    }
  });

  it('labels tjstp\'s own codes by number and an application\'s as app', () => {
    assert.deepEqual([0, 12, 14, 16, 24, 30, 31, 1001, 99, -1].map(codeLabel), ['0', '12', '14', '16', '24', '30', '31', 'app', 'app', '-1']);
  });
});
