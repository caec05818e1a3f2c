/**
 * The bundled example application: a per-session counter, a calculator and
 * a chat whose messages reach every session — including those restoring
 * after a dropped connection. Served by `npm start`.
 */
import { RemoteError, type ApplicationDefinition, type MethodContext } from '../../lib/index';

const history: { from: string; text: string }[] = [];

const example: ApplicationDefinition = {
  name: 'example',
  version: '1.0.0',
  api: {
    calc: {
      add: (_context: MethodContext, a: number, b: number) => a + b,
      divide: (_context: MethodContext, a: number, b: number) => {
        if (b === 0) throw new RemoteError(1000, 'Division by zero');
        return a / b;
      },
    },
    counter: {
      /** Survives reconnects and restores: it lives in the session's state. */
      increment: (context: MethodContext) => {
        const value = ((context.state.counter as number | undefined) ?? 0) + 1;
        context.state.counter = value;
        return value;
      },
      get: (context: MethodContext) => (context.state.counter as number | undefined) ?? 0,
    },
    chat: {
      say: (context: MethodContext, text: string) => {
        const from = context.user ?? context.sessionLabel;
        history.push({ from, text });
        if (history.length > 100) history.shift();
        context.broadcast('chat', 'message', from, text);
        return history.length;
      },
      history: () => history.slice(-20),
    },
  },
};

export default example;
