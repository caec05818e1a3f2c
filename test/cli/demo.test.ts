/**
 * `tjstp serve --http`: the demo page as users get it, from a child
 * process. Its fixed files with their content types, nothing else (no
 * traversal, no listing, GET and HEAD only), the WebSocket URL the page is
 * given, no page without the chat application; and, where Chromium is
 * installed, two tabs chatting through it, one of them dropping its
 * connection and saying something meanwhile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { pageWebSocketUrl } from '../../lib/cli/demo';
import { readServeConfig } from '../../lib/cli/serve-config';
import { browserMissing, launchBrowser, pageProblems } from '../helpers/browser';
import { BIN, ROOT, startServe, type ServeChild } from '../helpers/serve-child';

interface TextCheck {
  equals?: string;
  not?: string;
  includes?: string;
  startsWith?: string;
}

/** Waits until the text of the element `id` passes `check` (the page's CSP forbids evaluating strings). */
const until = async (tab: Page, id: string, check: TextCheck, ms = 5000): Promise<void> => {
  await tab.waitForFunction(([target, want]) => {
    const page = globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } };
    const text = page.document.getElementById(target)?.textContent ?? '';
    return (want.equals === undefined || text === want.equals) && (want.not === undefined || text !== want.not) &&
      (want.includes === undefined || text.includes(want.includes)) && (want.startsWith === undefined || text.startsWith(want.startsWith));
  }, [id, check] as const, { timeout: ms });
};

/** A raw request: fetch() would tidy the path before it left. */
const request = (base: string, method: string, route: string): Promise<{ status: number; type: string | undefined; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.request(new URL(base), { method, path: route }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.once('error', reject);
    req.end();
  });

it('--http is a port, needs a WebSocket listener, and is a config key', () => {
  assert.equal((readServeConfig(['--http', '0']) as { http?: number }).http, 0);
  assert.throws(() => readServeConfig(['--tcp', '0', '--http', '8080']), /--http serves a page that connects over WebSocket/);
  assert.throws(() => readServeConfig(['--http', '70000']), /--http: expected a whole number from 0 to 65535/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-demo-'));
  try {
    const file = path.join(dir, 'tjstp.json');
    fs.writeFileSync(file, JSON.stringify({ http: 8080, ws: 0 }));
    assert.equal((readServeConfig(['--config', file]) as { http?: number }).http, 8080);
    assert.equal((readServeConfig(['--config', file, '--http', '0']) as { http?: number }).http, 0, 'the flag wins');
    fs.writeFileSync(file, JSON.stringify({ http: 'yes' }));
    assert.throws(() => readServeConfig(['--config', file]), /http: expected a whole number/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('--http refuses applications without chat in one line, exit 2: the page could only fail', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-demo-'));
  try {
    fs.cpSync(path.join(ROOT, 'applications', 'counter'), path.join(dir, 'counter'), { recursive: true });
    const run = spawnSync(process.execPath, [BIN, 'serve', '--no-session-file', '--no-watch', '--applications', dir, '--ws', '0', '--http', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '', 'nothing served, nothing listening');
    assert.equal(run.stderr, `tjstp serve: --http: the demo page needs the chat application; none in ${dir}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('gives the page the listener it can reach', () => {
  assert.equal(pageWebSocketUrl('ws://127.0.0.1:8000', '127.0.0.1', 'localhost:8080'), 'ws://127.0.0.1:8000/');
  assert.equal(pageWebSocketUrl('ws://0.0.0.0:8000', '0.0.0.0', '192.168.1.5:8080'), 'ws://192.168.1.5:8000/');
  assert.equal(pageWebSocketUrl('ws://0.0.0.0:8000', '0.0.0.0', 'bad host/x'), 'ws://0.0.0.0:8000/');
});

describe('tjstp serve --http', () => {
  let serving: ServeChild;
  let page: string;
  let ws: string;

  before(async () => {
    serving = await startServe(['--tcp', '0', '--ws', '0', '--http', '0', '--no-watch'], 3);
    ws = serving.urls[1] as string;
    page = `${serving.urls[2] as string}/`;
    assert.match(page, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await serving.printed(/demo page: open http:\/\/127\.0\.0\.1:\d+\/ in two tabs/);
  });

  after(async () => {
    serving.child.kill('SIGTERM');
    assert.equal(await serving.exited, 0);
  });

  it('serves the page, its script and style, the bundle and the config, with their types', async () => {
    const expected: [string, RegExp, RegExp][] = [
      ['/', /^text\/html; charset=utf-8$/, /<script type="module" src="\/demo\.js">/],
      ['/demo.js', /^text\/javascript/, /from '\/tjstp-client\.js'/],
      ['/demo.css', /^text\/css/, /#log/],
      ['/tjstp-client.js', /^text\/javascript/, /connectBrowser/],
      ['/tjstp-client.js.map', /^application\/json/, /"sources"/],
    ];
    for (const [route, type, body] of expected) {
      const response = await request(page, 'GET', route);
      assert.equal(response.status, 200, route);
      assert.match(response.type ?? '', type, route);
      assert.match(response.body, body, route);
    }
    const config = await request(page, 'GET', '/config.json?x=1');
    assert.match(config.type ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(config.body), { app: 'chat', url: `${ws}/` });
    const head = await request(page, 'HEAD', '/');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('serves nothing else', async () => {
    for (const route of ['/../package.json', '/%2e%2e/package.json', '/demo/index.html', '/dist/browser/tjstp-client.js', '/demo/', '//etc/passwd', '/index.html']) {
      const response = await request(page, 'GET', route);
      assert.equal(response.status, 404, route);
      assert.match(response.type ?? '', /^text\/plain/);
    }
    assert.equal((await request(page, 'POST', '/')).status, 405);
  });

  describe('in Chromium', { skip: browserMissing() }, () => {
    let browser: Browser;

    before(async () => {
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
    });

    it('two tabs chat; one goes offline, says something meanwhile, and resumes; a drop; a reload reclaims the session', async () => {
      const context = await browser.newContext();
      const [ann, bob] = [await context.newPage(), await context.newPage()];
      const problems = [...[ann, bob].map((tab) => pageProblems(tab))];
      for (const tab of [ann, bob]) {
        await tab.goto(page);
        await until(tab, 'state', { equals: 'ready' });
      }
      assert.equal(await ann.evaluate(() => 'demo' in globalThis), false, 'the page leaves no global behind');
      await ann.fill('#text', 'hello from ann');
      await ann.click('#say button');
      await until(bob, 'log', { includes: 'hello from ann' });

      await bob.click('#offline');
      await until(bob, 'state', { not: 'ready' });
      await bob.fill('#text', 'said while offline');
      await bob.click('#say button');
      assert.equal(await bob.textContent('#pending'), '1', 'queued, not lost');
      assert.equal(await bob.textContent('#offline'), 'go online');
      await bob.click('#offline');
      await until(ann, 'log', { includes: 'said while offline' });
      await until(bob, 'pending', { equals: '0' });
      assert.match(await bob.textContent('#ready') ?? '', /^resumed: replayed 1\b/);
      assert.equal(await bob.textContent('#drops'), '1');
      const said = await ann.$$eval('#log li', (items) => items.filter((item) => item.textContent?.endsWith('said while offline')).length);
      assert.equal(said, 1, 'said once');

      await ann.click('#drop');
      await until(ann, 'drops', { equals: '1' });
      await until(ann, 'ready', { startsWith: 'resumed' });
      await ann.fill('#text', 'back again');
      await ann.click('#say button');
      await until(bob, 'log', { includes: 'back again' });

      // A reload reclaims the tab's session; what was said meanwhile is shown once.
      const session = await bob.textContent('#session');
      const reloading = bob.reload();
      await ann.fill('#text', 'during the reload');
      await ann.click('#say button');
      await reloading;
      await until(bob, 'ready', { equals: 'reclaimed after a reload' });
      assert.equal(await bob.textContent('#session'), session);
      await until(bob, 'log', { includes: 'during the reload' });
      const shown = await bob.$$eval('#log li', (items) => items.filter((item) => item.textContent?.endsWith('during the reload')).length);
      assert.equal(shown, 1, 'shown once');
      assert.deepEqual(problems.flat(), []);
      await context.close();
    });
  });
});
