/**
 * A tjstp server in its own process, for tests that kill and restart it.
 * Usage: node server-process.js <tcpPort> <wsPort>; prints
 * `ready <tcpPort> <wsPort>` once listening.
 */
import { Server, silentLogger } from '../../lib/index';
import { createTestApp } from './app';

const main = async (): Promise<void> => {
  const [tcp, ws] = process.argv.slice(2).map(Number);
  const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
  const listeners = await server.listen({ tcp: tcp ?? 0, ws: ws ?? 0 });
  const port = (kind: string): number | undefined => listeners.find((l) => l.kind === kind)?.port;
  process.stdout.write(`ready ${port('tcp')} ${port('ws')}\n`);
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  });
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
