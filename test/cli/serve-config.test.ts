/**
 * `tjstp serve` settings for the memory budget, admission limits,
 * restore binding and the log format: from flags and from the config file
 * (flags win), with bad values refused by name.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, limitSettings, readServeConfig, type ServeConfig } from '../../lib/cli/serve-config';

const read = (args: string[]): ServeConfig => readServeConfig(args) as ServeConfig;

it('reads every limit flag, the binding flags, and their config keys; flags win', () => {
  const flags = Object.values(limitSettings).flatMap((flag, i) => [`--${flag}`, String(i + 1)]);
  const config = read([...flags, '--no-id-only-restore', '--bind-address']);
  assert.deepEqual(config.limits, Object.fromEntries(Object.keys(limitSettings).map((key, i) => [key, i + 1])));
  assert.equal(config.idOnlyRestore, false);
  assert.equal(config.bindAddress, true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-config-'));
  try {
    const file = path.join(dir, 'tjstp.json');
    fs.writeFileSync(file, JSON.stringify({ maxSessionMemory: 1048576, restoresPerMinute: 0, idOnlyRestore: false }));
    const fromFile = read(['--config', file, '--restores-per-minute', '60']);
    assert.deepEqual(fromFile.limits, { maxSessionMemory: 1048576, restoresPerMinute: 60 });
    assert.equal(fromFile.idOnlyRestore, false);
    fs.writeFileSync(file, JSON.stringify({ maxCallsInFlight: -1 }));
    assert.throws(() => read(['--config', file]), /maxCallsInFlight: expected a whole number/);
    fs.writeFileSync(file, JSON.stringify({ bindAddress: 'yes' }));
    assert.throws(() => read(['--config', file]), /bindAddress: expected true or false/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => read(['--max-session-memory', 'lots']), (error: unknown) => error instanceof ConfigError && /--max-session-memory: expected a whole number/.test(error.message));
  assert.deepEqual(read([]).limits, {}, 'the server defaults apply');
});

it('--log-format and logFormat: text by default, json asked for, anything else refused by name; the flag wins', () => {
  assert.equal(read([]).logFormat, 'text');
  assert.equal(read(['--log-format', 'json']).logFormat, 'json');
  assert.throws(() => read(['--log-format', 'JSON']), /--log-format: expected text or json, got "JSON"/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-config-'));
  try {
    const file = path.join(dir, 'tjstp.json');
    fs.writeFileSync(file, JSON.stringify({ logFormat: 'json' }));
    assert.equal(read(['--config', file]).logFormat, 'json');
    assert.equal(read(['--config', file, '--log-format', 'text']).logFormat, 'text');
    fs.writeFileSync(file, JSON.stringify({ logFormat: 1 }));
    assert.throws(() => read(['--config', file]), /logFormat: expected text or json, got 1/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('reads --metrics PORT and the metrics key', () => {
  assert.equal(read(['--metrics', '9464']).metrics, 9464);
  assert.equal(read([]).metrics, undefined);
  // The metrics stay on loopback when the listeners open wider, unless asked.
  assert.equal(read(['--metrics', '9464', '--host', '0.0.0.0']).metricsHost, '127.0.0.1');
  assert.equal(read(['--metrics', '9464', '--metrics-host', '0.0.0.0']).metricsHost, '0.0.0.0');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-config-'));
  try {
    const file = path.join(dir, 'tjstp.json');
    fs.writeFileSync(file, JSON.stringify({ metrics: 9100 }));
    assert.equal(read(['--config', file]).metrics, 9100);
    assert.equal(read(['--config', file, '--metrics', '0']).metrics, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => read(['--metrics', 'web']), /--metrics/);
  assert.equal(read(['--metrics', '9464', '--workers', '2', '--redis', 'redis://127.0.0.1:6379']).metrics, 9464);
});
