/**
 * Part 2 of the soak: `inputs` fuzz inputs (see `fuzz-inputs.ts`) sent by
 * `connections` parallel connections (see `fuzz-slot.ts`), rotating over
 * TCP, WS `metarhia-jstp` and WS `tjstp-batch`, against a server in a
 * child process (`fuzz-server.ts`), while honest tjstp clients, one per
 * transport, make calls the whole time and check every answer.
 *
 * Checked: the server never exits (a crash: the latest inputs are kept for
 * the report), every input is answered or its connection closed within
 * `answerMs`, no honest call fails, hangs or loses its session, and the
 * server stops cleanly at the end.
 */
import path from 'node:path';
import { connect, type Client } from '../../lib/index';
import { InputStream } from './fuzz-inputs';
import { FuzzSlot, type FuzzContext, type NotedInput } from './fuzz-slot';
import { check, endpointOf, readCpuSeconds, ServerChild, sleep, type Check } from './shared';

export interface FuzzConfig {
  inputs: number;
  connections: number;
  seed: number;
  /** ms an input may take to be answered, or its connection closed. */
  answerMs: number;
  honestIntervalMs: number;
}

export interface FuzzResult {
  config: FuzzConfig;
  durationSeconds: number;
  inputsSent: number;
  connections: number;
  outcomes: Record<string, number>;
  families: Record<string, number>;
  survived: Record<string, number>;
  setupFailures: Record<string, number>;
  problems: NotedInput[];
  crash: { exit: string; lastInputs: NotedInput[]; stderrTail: string[] } | undefined;
  honest: { calls: number; failures: string[]; hung: number; sessionsLost: number };
  server: { exit: string; stats: unknown; stderrLines: number; stderrBytes: number };
  /** CPU seconds used by the server and by this process (fuzzer and honest clients). */
  cpu: { server: number; fuzzer: number };
  checks: Check[];
}

interface Honest {
  calls: number;
  failures: string[];
  pending: number;
  sessionsLost: number;
  running: boolean;
}

/** A tjstp client making `calc.add(n, 1)` calls one at a time until stopped, checking each answer. */
const honestLoop = async (client: Client, name: string, honest: Honest, intervalMs: number): Promise<void> => {
  client.on('sessionLost', () => {
    honest.sessionsLost++;
  });
  let n = 0;
  while (honest.running) {
    n++;
    honest.calls++;
    honest.pending++;
    try {
      const sum = await client.call('calc', 'add', n, 1);
      if (sum !== n + 1) honest.failures.push(`${name}: calc.add(${n}, 1) answered ${JSON.stringify(sum)}`);
    } catch (error) {
      honest.failures.push(`${name}: calc.add(${n}, 1) failed: ${(error as Error).message}`);
    } finally {
      honest.pending--;
    }
    await sleep(intervalMs);
  }
};

export const runFuzz = async (config: FuzzConfig, log: (line: string) => void): Promise<FuzzResult> => {
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  let statsLine: unknown;
  const server = new ServerChild(path.join(__dirname, 'fuzz-server.js'), [], [], 2, {
    stdout: (line) => {
      if (line.startsWith('stats ')) statsLine = JSON.parse(line.slice(6));
    },
  });
  const endpoint = endpointOf(await server.listening);
  log(`fuzz server pid ${server.pid}, seed ${config.seed}, ${config.inputs.toLocaleString('en-US')} inputs over ${config.connections} connections`);

  const honest: Honest = { calls: 0, failures: [], pending: 0, sessionsLost: 0, running: true };
  const clients = [
    { name: 'tcp', client: await connect(`tcp://127.0.0.1:${endpoint.tcpPort}`, { app: 'testApp' }) },
    { name: 'ws tjstp-batch', client: await connect(endpoint.wsUrl, { app: 'testApp' }) },
    { name: 'ws metarhia-jstp', client: await connect(endpoint.wsUrl, { app: 'testApp', webSocketBatching: false }) },
  ];
  const honestRuns = clients.map(({ name, client }) => honestLoop(client, name, honest, config.honestIntervalMs));

  const context: FuzzContext = {
    endpoint,
    stream: new InputStream(config.seed),
    total: config.inputs,
    answerMs: config.answerMs,
    stopped: false,
    sent: 0,
    connections: 0,
    outcomes: {},
    families: {},
    survived: {},
    setupFailures: {},
    dropped: [],
    problems: [],
    recent: [],
  };
  let crash: FuzzResult['crash'];
  server.process.once('exit', (code, signal) => {
    if (context.stopped) return;
    context.stopped = true;
    crash = { exit: String(signal ?? code), lastInputs: [...context.recent], stderrTail: [...server.stderrTail] };
    log(`! the fuzz server exited (${signal ?? code}) after ${context.sent} inputs`);
  });
  const progress = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    log(`  ${Math.round(seconds)} s: ${context.sent.toLocaleString('en-US')} inputs (${Math.round(context.sent / seconds)}/s), ` +
      `${context.connections.toLocaleString('en-US')} connections, honest ${honest.calls} calls / ${honest.failures.length} failed`);
  }, 30_000);
  await Promise.all(Array.from({ length: config.connections }, (_v, i) => new FuzzSlot(context, i).run()));
  clearInterval(progress);
  const crashed = crash !== undefined;
  context.stopped = true;

  honest.running = false;
  const deadline = Date.now() + 10_000;
  while (honest.pending > 0 && Date.now() < deadline) await sleep(20);
  const hung = honest.pending;
  if (hung === 0) await Promise.all(honestRuns);
  for (const { client } of clients) client.close();

  const cpu = { server: readCpuSeconds(server.pid) ?? Number.NaN, fuzzer: (process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6 };
  if (!crashed) {
    server.write('stats');
    for (let i = 0; i < 100 && statsLine === undefined; i++) await sleep(50);
  }
  const exit = await server.stop();
  const noAnswer = Object.entries(context.outcomes).filter(([outcome]) => outcome.endsWith('no answer') || outcome.endsWith('left open'));
  const checks: Check[] = [
    check('correctness', 'fuzz server never crashed', !crashed, crashed ? `exited ${crash!.exit} after ${context.sent} inputs` : `${context.sent} inputs, server up throughout`),
    check('correctness', 'fuzz server stops cleanly afterwards (SIGTERM, exit 0)', crashed || exit.code === 0, `exit ${exit.signal ?? exit.code}`),
    check('correctness', 'every input answered or its connection closed', noAnswer.length === 0,
      noAnswer.length === 0 ? `within ${config.answerMs} ms each` : noAnswer.map(([outcome, count]) => `${count} × ${outcome}`).join('; ')),
    check('correctness', 'honest calls answered', honest.failures.length === 0 && hung === 0 && honest.sessionsLost === 0 && honest.calls > 0,
      `${honest.calls} calls, ${honest.failures.length} failed, ${hung} hung, ${honest.sessionsLost} sessions lost`),
    check('correctness', 'all inputs sent', context.sent >= config.inputs, `${context.sent} of ${config.inputs}`),
  ];
  return {
    config,
    durationSeconds: (Date.now() - started) / 1000,
    inputsSent: context.sent,
    connections: context.connections,
    outcomes: context.outcomes,
    families: context.families,
    survived: context.survived,
    setupFailures: context.setupFailures,
    problems: context.problems,
    crash,
    honest: { calls: honest.calls, failures: honest.failures.slice(0, 20), hung, sessionsLost: honest.sessionsLost },
    server: { exit: String(exit.signal ?? exit.code), stats: statsLine, stderrLines: server.stderrLines, stderrBytes: server.stderrBytes },
    cpu,
    checks,
  };
};
