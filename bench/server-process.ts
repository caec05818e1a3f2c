/**
 * A benchmark server process: `node dist/bench/server-process.js <system>`.
 * Listens on 127.0.0.1, port 0, and reports its port (to the orchestrator
 * over IPC, or on stdout when run by hand), with the port of a plain TCP
 * control channel used by the fan-out case.
 *
 * Fan-out: the server broadcasts `iface.tick(n)` rounds through the
 * system's own broadcast, at most `window` rounds ahead of the last round
 * the client process reported complete on the control channel (one line
 * per completed round, the same for every system). Run with `--expose-gc`
 * for the idle-memory case, with `--cpu-prof` to profile.
 */
import net from 'node:net';
import { HOST, isSystem, serveRequests, type System } from './common';
import { startServer } from './servers';

const [systemArg] = process.argv.slice(2);
if (systemArg === undefined || !isSystem(systemArg)) {
  console.error(`usage: server-process.js <system>; got ${systemArg}`);
  process.exit(2);
}
const system: System = systemArg;

interface FanOut {
  running: boolean;
  window: number;
  sent: number;
  acked: number;
}

const main = async (): Promise<void> => {
  const server = await startServer(system);
  const fanOut: FanOut = { running: false, window: 8, sent: 0, acked: 0 };
  const pump = (): void => {
    while (fanOut.running && fanOut.sent - fanOut.acked < fanOut.window) {
      fanOut.sent += 1;
      server.broadcast(fanOut.sent);
    }
  };

  // The client process reports each completed round here, as a line.
  const control = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    let rest = '';
    socket.on('data', (data: string) => {
      const lines = (rest + data).split('\n');
      rest = lines.pop() ?? '';
      const last = Number(lines[lines.length - 1]);
      if (Number.isFinite(last) && last > fanOut.acked) fanOut.acked = last;
      pump();
    });
  });
  await new Promise<void>((resolve) => control.listen(0, HOST, resolve));

  /** The storm as the server saw it: from the first detach to the last resume. */
  const resumes = { count: 0, replayed: 0, detached: 0, ended: 0, firstDetachAt: 0, lastResumeAt: 0 };
  server.tjstp?.on('resume', (_session, replayed) => {
    resumes.count += 1;
    resumes.replayed += replayed;
    resumes.lastResumeAt = performance.now();
  });
  server.tjstp?.on('detach', () => {
    if (resumes.detached === 0) resumes.firstDetachAt = performance.now();
    resumes.detached += 1;
  });
  server.tjstp?.on('end', () => {
    resumes.ended += 1;
  });

  serveRequests(
    {
      /** Memory, after full GCs when asked (needs `--expose-gc`). */
      stats: async ({ gc }) => {
        if (gc && global.gc) {
          for (let i = 0; i < 4; i++) {
            global.gc();
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        const memory = process.memoryUsage();
        return { rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, connections: server.connections() };
      },
      cpu: () => ({ ...process.cpuUsage(), at: performance.now() }),
      fanoutStart: ({ window }) => {
        fanOut.window = Number(window ?? 8);
        fanOut.acked = fanOut.sent;
        fanOut.running = true;
        pump();
        return { from: fanOut.sent };
      },
      fanoutStop: () => {
        fanOut.running = false;
        return { sent: fanOut.sent };
      },
      /** Broadcasts ticks `from`..`to` at once (the resume storm). */
      ticks: ({ from, to }) => {
        let sent = 0;
        for (let n = Number(from); n <= Number(to); n++) sent += server.broadcast(n);
        return { sent };
      },
      resumes: () => ({ ...resumes, sessions: server.connections(), spanMs: resumes.lastResumeAt - resumes.firstDetachAt }),
      /** A graceful stop with a shared store (what SIGTERM does to `tjstp serve --redis`): every session parked. */
      park: async () => {
        const tjstp = server.tjstp;
        if (!tjstp) throw new Error(`${system} has no sessions to park`);
        const started = performance.now();
        await tjstp.suspend();
        const parked = await tjstp.park();
        return { parked, ms: performance.now() - started };
      },
    },
    { system, port: server.port, controlPort: (control.address() as net.AddressInfo).port, pid: process.pid },
  );
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
