/**
 * The cluster phase (tjstp with sessions in Redis): two server processes,
 * nodes A and B, sharing one Redis, and a client process in front.
 *
 * - Resume time: one session dropped and resumed again and again, on the
 *   same node each time, then moving between the nodes each time (a
 *   handover through Redis). The p50s and their ratio.
 * - Storm on the other node: N sessions on A; A stops gracefully (what
 *   SIGTERM does: every session parked in Redis) while the clients are
 *   pointed at B, as a load balancer would; B broadcasts a tick meanwhile.
 *   Measured from the stop until every client resumed on B and has every
 *   tick; counted: duplicates, gaps, sessions lost.
 */
import { Child, type System } from './common';
import { children, type Config } from './phases';
import type { StormResult } from './storm';

export interface ClusterResult {
  sameNodeResumeP50Ms: number;
  otherNodeResumeP50Ms: number;
  resumes: number;
  storm: StormResult & { sessions: number; parked: number; parkMs: number };
}

interface Hello {
  port: number;
}

const SYSTEM: System = 'tjstp-redis-tcp';

const start = async (script: string, args: string[]): Promise<[Child, Hello]> => {
  const child = new Child(script, args);
  children.add(child);
  return [child, (await child.ready) as Hello];
};

const stop = async (...stopped: Child[]): Promise<void> => {
  for (const child of stopped) {
    await child.stop();
    children.delete(child);
  }
};

export const runCluster = async (config: Config): Promise<ClusterResult> => {
  const [a, atA] = await start('server-process', [SYSTEM]);
  const [b, atB] = await start('server-process', [SYSTEM]);
  try {
    const resumes = config.short ? 20 : 100;
    const [one] = await start('client-process', [SYSTEM, String(atA.port)]);
    await one.request('connect', { count: 1, concurrency: 1 });
    const same = await one.request<{ p50: number }>('resumeTimes', { count: resumes, ports: [atA.port] }, 120_000);
    const other = await one.request<{ p50: number }>('resumeTimes', { count: resumes, ports: [atB.port, atA.port] }, 120_000);
    console.log(`  [cluster] resume p50: same node ${same.p50.toFixed(2)} ms, other node ${other.p50.toFixed(2)} ms (${(other.p50 / same.p50).toFixed(2)}×), ${resumes} each`);
    await stop(one);

    const sessions = config.stormSessions;
    const [many] = await start('client-process', [SYSTEM, String(atA.port)]);
    const opened = await many.request<{ open: number }>('connect', { count: sessions, concurrency: 100 }, 180_000);
    await many.request('stormArm');
    await a.request('ticks', { from: 1, to: 1 });
    await many.request('stormWaitTicks', { n: 1 }, 60_000);
    await many.request('retarget', { port: atB.port });
    const watching = many.request<StormResult>('stormWatch', { ticks: 2, timeoutMs: 60_000 }, 90_000);
    const park = await a.request<{ parked: number; ms: number }>('park', {}, 90_000);
    await b.request('ticks', { from: 2, to: 2 });
    const storm = { ...(await watching), sessions: opened.open, parked: park.parked, parkMs: park.ms };
    console.log(
      `  [cluster] storm: ${opened.open} sessions moved from A (stopped, ${park.parked} parked in ${park.ms.toFixed(0)} ms) to B:` +
        ` all resumed in ${storm.resumeMs.toFixed(0)} ms (p50 ${storm.resumeP50Ms.toFixed(0)} ms), settled in ${storm.settledMs.toFixed(0)} ms;` +
        ` lost ${storm.sessionsLost}, duplicates ${storm.duplicates}, gaps ${storm.gaps}, ticks missing ${storm.ticksMissing}`,
    );
    await stop(many);
    return { sameNodeResumeP50Ms: same.p50, otherNodeResumeP50Ms: other.p50, resumes, storm };
  } finally {
    await stop(a, b);
  }
};
