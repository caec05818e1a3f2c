/**
 * The application the tests serve. `executions` counts every run of
 * `ledger.record` by token, so tests can prove each call ran exactly once.
 */
import { RemoteError, type ApplicationDefinition, type MethodContext } from '../../lib/index';

export interface TestApp {
  definition: ApplicationDefinition;
  executions: Map<string, number>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const createTestApp = (name = 'testApp', version = '1.0.0'): TestApp => {
  const executions = new Map<string, number>();
  const definition: ApplicationDefinition = {
    name,
    version,
    api: {
      calc: {
        add: (_c: MethodContext, a: number, b: number) => a + b,
        echo: (_c: MethodContext, value: unknown) => value,
        slowEcho: async (_c: MethodContext, value: unknown, ms: number) => {
          await delay(ms);
          return value;
        },
        nothing: () => undefined,
      },
      counter: {
        increment: (context: MethodContext) => {
          const value = ((context.state.counter as number | undefined) ?? 0) + 1;
          context.state.counter = value;
          return value;
        },
      },
      ledger: {
        /** Records one execution of `token`; optionally answers late. */
        record: async (_c: MethodContext, token: string, ms = 0) => {
          executions.set(token, (executions.get(token) ?? 0) + 1);
          if (ms > 0) await delay(ms);
          return token;
        },
      },
      events: {
        /** Emits `count` numbered events to this session, `every` ms apart (0: at once). */
        start: (context: MethodContext, stream: string, count: number, every: number) => {
          let sent = 0;
          const next = (): void => {
            context.emit('events', 'tick', stream, sent);
            sent++;
            if (sent < count) {
              if (every > 0) setTimeout(next, every);
              else next();
            }
          };
          if (count > 0) next();
          return count;
        },
        broadcast: (context: MethodContext, text: string) => {
          context.broadcast('events', 'news', text);
        },
        whoami: (context: MethodContext) => context.user,
      },
      fail: {
        throws: () => {
          throw new Error('boom');
        },
        rejects: async () => {
          throw new Error('async boom');
        },
        remote: () => {
          throw new RemoteError(1001, 'Custom failure', [{ field: 'x' }]);
        },
        bigint: () => BigInt(1),
      },
    },
  };
  return { definition, executions };
};
