/**
 * `tjstp serve` as users run it: a child process that loads the bundled
 * applications, prints one line per listener with the address it bound,
 * serves, reads a config file and flags (flags win), refuses bad settings
 * with a clear message, and on SIGTERM finishes calls in flight first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { connect, type Client, type RemoteEvent } from '../../lib/index';
import { makeCertificate } from '../helpers/certificate';
import { delay, once, waitFor } from '../helpers/fixtures';
import { BIN, ROOT, startServe } from '../helpers/serve-child';

const root = ROOT;
const bin = BIN;
const start = startServe;

const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });

describe('tjstp serve', () => {
  it('serves the bundled chat and counter on the ports it prints; chat rooms reach members across reconnects', async () => {
    const server = await start(['--tcp', '0', '--ws', '0', '--no-watch'], 2);
    const clients: Client[] = [];
    try {
      assert.match(server.output(), /serving chat@1\.0\.0/);
      assert.match(server.output(), /serving counter@1\.0\.0/);
      const [tcp, ws] = server.urls as [string, string];
      assert.match(tcp, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ws, /^ws:\/\/127\.0\.0\.1:\d+$/);
      const counter = await connect(tcp, { app: 'counter' });
      clients.push(counter);
      assert.equal(await counter.call('counter', 'increment'), 1);
      assert.equal(await counter.call('counter', 'increment', 5), 6);
      const resumed = once(counter, 'ready');
      counter.reconnect();
      await resumed;
      assert.equal(await counter.call('counter', 'get'), 6, 'the counter survived the reconnect');
      await assert.rejects(counter.call('counter', 'increment', 0), /Invalid argument 1 \(step\)/);
      counter.close();

      const ann = await connect(tcp, { app: 'chat', reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 } });
      const bob = await connect(ws, { app: 'chat' });
      clients.push(ann, bob);
      await ann.call('profile', 'rename', 'ann');
      await ann.call('rooms', 'join', 'lobby');
      await bob.call('rooms', 'join', 'lobby');
      const heard: RemoteEvent[] = [];
      ann.on('event', (event) => heard.push(event));
      const annBack = once(ann, 'ready');
      ann.reconnect(); // ann's connection drops; the room keeps her
      await bob.call('rooms', 'say', 'lobby', 'while you were away');
      await annBack;
      await waitFor(() => heard.some((e) => e.name === 'message'), 2000, 'the message');
      const message = heard.find((e) => e.name === 'message')?.args[0] as { text: string; room: string };
      assert.equal(message.text, 'while you were away');
      assert.deepEqual(await ann.call('rooms', 'mine'), ['lobby']);
      await assert.rejects(bob.call('rooms', 'say', 'elsewhere', 'hi'), /Join elsewhere first/);
      ann.close();
      bob.close();
    } finally {
      // A failed assertion must not leave clients reconnecting for ever.
      for (const client of clients) client.close();
      server.child.kill('SIGTERM');
    }
    assert.equal(await server.exited, 0);
  });

  it('reads a config file, lets flags win, serves TLS and IPC', { skip: makeCertificate() ? false : 'no openssl' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-serve-'));
    const { key, cert } = makeCertificate() as { key: string; cert: string };
    fs.writeFileSync(path.join(dir, 'key.pem'), key);
    fs.writeFileSync(path.join(dir, 'cert.pem'), cert);
    const socket = path.join(dir, 'tjstp.sock');
    fs.writeFileSync(path.join(dir, 'tjstp.json'), JSON.stringify({
      applications: path.join(root, 'applications'),
      tls: 0, cert: 'cert.pem', key: 'key.pem', ipc: socket, tcp: 1,
      session: { holdTime: 5000 }, backlog: 128,
    }));
    const server = await start(['--config', path.join(dir, 'tjstp.json'), '--tcp', '0', '--no-watch'], 3);
    const clients: Client[] = [];
    try {
      const tls = server.urls.find((url) => url.startsWith('tls://')) as string;
      const secure = await connect(tls, { app: 'counter', tls: { ca: cert } });
      clients.push(secure);
      assert.equal(await secure.call('counter', 'increment'), 1);
      assert.deepEqual(secure.serverLimits, { maxBufferedBytes: 4 * 1024 * 1024, holdTime: 5000, maxPendingMessages: 1000, maxPendingBytes: 4 * 1024 * 1024 });
      secure.close();
      const local = await connect(socket, { app: 'counter' });
      clients.push(local);
      assert.equal(await local.call('counter', 'increment'), 1);
      local.close();
      assert.ok(server.urls.some((url) => /^tcp:\/\/127\.0\.0\.1:\d+$/.test(url) && !url.endsWith(':1')), '--tcp 0 won over tcp: 1');
    } finally {
      for (const client of clients) client.close();
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selects tjstp-batch for WebSocket clients unless --no-ws-batching (or webSocketBatching: false)', async () => {
    const protocolAt = async (url: string): Promise<string> => {
      const ws = new WebSocket(url, ['metarhia-jstp', 'tjstp-batch']);
      ws.on('error', () => {});
      await once(ws, 'open');
      ws.terminate();
      return ws.protocol;
    };
    const batching = await start(['--ws', '0', '--no-watch'], 1);
    const plain = await start(['--ws', '0', '--no-watch', '--no-ws-batching'], 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-serve-'));
    fs.writeFileSync(path.join(dir, 'tjstp.json'), JSON.stringify({ webSocketBatching: false }));
    const configured = await start(['--config', path.join(dir, 'tjstp.json'), '--ws', '0', '--no-watch'], 1);
    try {
      assert.equal(await protocolAt(batching.urls[0]!), 'tjstp-batch');
      assert.equal(await protocolAt(plain.urls[0]!), 'metarhia-jstp');
      assert.equal(await protocolAt(configured.urls[0]!), 'metarhia-jstp');
      const client = await connect(plain.urls[0]!, { app: 'counter' });
      assert.equal(await client.call('counter', 'increment'), 1);
      client.close();
    } finally {
      for (const server of [batching, plain, configured]) server.child.kill('SIGTERM');
      await Promise.all([batching.exited, plain.exited, configured.exited]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finishes a call in flight on SIGTERM before exiting', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-apps-'));
    fs.mkdirSync(path.join(dir, 'slow', 'api', 'work'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'slow', 'api', 'work', 'run.js'),
      'module.exports = (context, ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));\n');
    const server = await start(['--applications', dir, '--tcp', '0', '--no-watch'], 1);
    try {
      const client = await connect(server.urls[0] as string, { app: 'slow', reconnect: false });
      const call = client.call('work', 'run', 300);
      await delay(50);
      server.child.kill('SIGTERM');
      assert.equal(await call, 300, 'answered before the server went');
      assert.equal(await server.exited, 0);
      assert.match(server.output(), /SIGTERM: finishing calls in flight/);
      client.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies the admission limits it is given: a third session from one address is refused with 31', async () => {
    const served = await start(['--tcp', '0', '--no-watch', '--max-sessions-per-address', '2'], 1);
    try {
      const url = served.urls[0] as string;
      const clients = [await connect(url, { app: 'counter' }), await connect(url, { app: 'counter' })];
      await assert.rejects(connect(url, { app: 'counter' }), (error: { code?: number; info?: unknown[] }) => error.code === 31 && error.info?.[0] === 'sessionsPerAddress');
      for (const client of clients) client.close();
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
    }
  });

  it('refuses bad settings with a message naming them', async () => {
    const cases: [string[], RegExp, number][] = [
      [['serve', '--tcp', 'x'], /--tcp: expected a whole number from 0 to 65535/, 2],
      [['serve', '--tcp', '70000'], /--tcp: expected a whole number/, 2],
      [['serve', '--backlog', '0'], /--backlog: expected a whole number from 1 to 65535, got 0/, 2],
      [['serve', '--max-session-memory=-5'], /--max-session-memory: expected a whole number/, 2],
      [['serve', '--tls', '0'], /--tls and --wss need --cert FILE and --key FILE/, 2],
      [['serve', '--frobnicate'], /Unknown option '--frobnicate'/, 2],
      [['serve', '--applications', '/nonexistent/apps', '--tcp', '0'], /no such directory/, 1],
      [['serve', '--config', '/nonexistent/tjstp.json'], /--config \/nonexistent\/tjstp.json: ENOENT/, 2],
      [['frobnicate'], /unknown command "frobnicate"/, 2],
    ];
    for (const [args, pattern, code] of cases) {
      const result = await run(args);
      assert.match(result.stderr, pattern, args.join(' '));
      assert.equal(result.code, code, args.join(' '));
    }
  });
});
