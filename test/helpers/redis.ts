/**
 * A real redis-server for the tests, on a free port with its own empty
 * directory, nothing persisted. Where redis-server is not installed the
 * tests that need it skip with a message, except under `.ci/run`
 * (TJSTP_REQUIRE_REDIS=1), where they fail: they must never pass silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGKILL: as a crash), keeping nothing. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was persisted). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const installed = (): boolean => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A skip reason for `it(…, { skip })`, or false when redis-server is here. Throws under CI when it is not. */
export const redisMissing = (): string | false => {
  if (installed()) return false;
  if (process.env.TJSTP_REQUIRE_REDIS === '1') throw new Error('redis-server is not installed, and TJSTP_REQUIRE_REDIS=1 (CI) requires the Redis tests to run');
  return 'redis-server is not installed (apt-get install -y redis-server): the Redis tests are skipped';
};

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    server.close(() => resolve(port));
  });
});

const launch = (port: number, dir: string): Promise<ChildProcess> => new Promise((resolve, reject) => {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    if (/Ready to accept connections/.test(output)) {
      child.stdout?.off('data', onData);
      resolve(child);
    }
  };
  child.stdout?.on('data', onData);
  child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
});

export const startRedis = async (): Promise<RedisServer> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-redis-'));
  const port = await freePort();
  let child = await launch(port, dir);
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: async () => {
      await kill();
      child = await launch(port, dir);
    },
    stop: async () => {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};
