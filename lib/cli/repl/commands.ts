/**
 * Runs one statement against the session. Both modes share this; they
 * differ only in how they show the outcome (JSON line or text) and in
 * whether `.reconnect` waits for the resume (scripts do, so the next line
 * sees a connected session; people watch the status lines instead).
 * `.drop` never waits: what follows it is made offline, queued by the
 * client and answered after the resume, in both modes.
 */
import type { Client } from '../../client/client.js';
import type { TransportFactory } from '../../client/types.js';
import { ErrorCode, RemoteError, TjstpError } from '../../protocol/errors.js';
import type { Catalog } from './catalog.js';
import type { EventFilter } from './event-filter.js';
import { formatResults, paint, type PrintOptions } from './printer.js';
import { formatDescription, formatSignature } from './signature.js';
import { fetchStats, formatStats } from './stats-view.js';
import { formatSessionView, type SessionStatus } from './status.js';
import { commandTable, type Command } from './syntax.js';
import type { WireTap } from './wire-tap.js';

/** Everything a statement can touch. */
export interface ReplContext {
  client: Client;
  tap: WireTap;
  status: SessionStatus;
  catalog: Catalog;
  events: EventFilter;
  /** Builds a (watched) transport factory for `.reconnect URL`. */
  transportFor(url: string): TransportFactory;
  /** Scripts: `.reconnect` resolves only once the session is back. */
  awaitResume: boolean;
  print: PrintOptions;
}

/** What a statement produced. */
export interface Outcome {
  /** The JSON value script mode prints as `{"ok": value}`. */
  value: unknown;
  /** Every result of a call, when there were several. */
  results?: unknown[];
  /** How a person sees it; absent: nothing to show. */
  text?: string;
  /** `.exit`: leave after this. */
  exit?: boolean;
}

const VERBOSE_NAMES = ['off', 'on', 'all'] as const;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `.help`: the syntax, then every command. */
export const helpText = (print: PrintOptions): string => {
  const width = Math.max(...commandTable.map((spec) => spec.usage.length)) + 2;
  return [
    `${paint(print, 'bold', 'Calls')}     iface.method(args)   arguments are literals: 1, 'text', [1, 2], { key: 'v' }`,
    `          calc.add(1, 2)       chat.say({ room: 'x', text: 'hi' })`,
    `          call calc add 1, 2   the reference jstp-cli's form`,
    `${paint(print, 'bold', 'Names')}     Tab completes; calc? and calc.add? show signatures`,
    `${paint(print, 'bold', 'Several')}   calc.add(1, 2); calc.add(3, 4)`,
    paint(print, 'bold', 'Commands'),
    ...commandTable.map((spec) => `  ${spec.usage.padEnd(width)}${paint(print, 'dim', spec.summary)}`),
  ].join('\n');
};

const describe = async (context: ReplContext, iface?: string, method?: string): Promise<Outcome> => {
  const { catalog, print } = context;
  if (iface !== undefined && method !== undefined) {
    const methods = await catalog.fetchMethods(iface);
    if (!methods.includes(method)) throw new RemoteError(ErrorCode.METHOD_NOT_FOUND);
    const info = catalog.info(iface, method) ?? {};
    return { value: { [iface]: { [method]: info } }, text: formatSignature(iface, method, info, print) };
  }
  const description = await catalog.describe(iface);
  return { value: description, text: formatDescription(description, catalog.described === true, print) };
};

/** Waits for the resume when the mode asks for it. */
const afterReconnect = async (context: ReplContext, ready: Promise<unknown>): Promise<Outcome> => {
  if (!context.awaitResume) {
    ready.catch(() => undefined);
    return { value: null };
  }
  return { value: await ready };
};

/**
 * Runs one statement.
 * @throws whatever the call or command failed with (`RemoteError`, `SessionLostError`, …)
 */
export const execute = async (command: Command, context: ReplContext): Promise<Outcome> => {
  const { client, print } = context;
  switch (command.kind) {
    case 'call': {
      try {
        const results = await client.callResults(command.iface, command.method, command.args);
        context.catalog.learn(command.iface);
        const outcome: Outcome = { value: results[0] ?? null, text: formatResults(results, print) };
        if (results.length > 1) outcome.results = results;
        return outcome;
      } catch (error) {
        // The interface exists even when the method does not: worth completing.
        if (error instanceof RemoteError && error.code === ErrorCode.METHOD_NOT_FOUND) context.catalog.learn(command.iface);
        throw error;
      }
    }
    case 'emit':
      client.sendEvent(command.iface, command.name, ...command.args);
      return { value: null, text: paint(print, 'dim', `event ${command.iface}.${command.name} sent`) };
    case 'describe':
      return describe(context, command.iface, command.method);
    case 'events':
      if (command.enable !== undefined) context.events.set(command.enable, command.iface);
      return { value: context.events.describe(), text: `events shown: ${context.events.describe()}` };
    case 'session': {
      const view = context.status.view();
      return { value: view, text: formatSessionView(view, print) };
    }
    case 'stats': {
      const stats = await fetchStats(client);
      return { value: stats, text: formatStats(stats, print) };
    }
    case 'drop': {
      if (client.state === 'closed') throw new TjstpError(ErrorCode.CLIENT_CLOSED);
      context.status.markDrop(command.ms);
      const dropped = context.tap.drop(command.ms, () => client.reconnectNow());
      return { value: { dropped, downMs: command.ms } };
    }
    case 'reconnect': {
      if (client.state === 'closed') throw new TjstpError(ErrorCode.CLIENT_CLOSED);
      const factory = command.url === undefined ? undefined : context.transportFor(command.url);
      const ready = context.status.nextReady();
      context.tap.restore();
      context.status.markReconnect(command.url);
      client.reconnect(factory);
      return afterReconnect(context, ready);
    }
    case 'verbose':
      if (command.level !== undefined) context.tap.verbose = command.level;
      return { value: VERBOSE_NAMES[context.tap.verbose], text: `verbose: ${VERBOSE_NAMES[context.tap.verbose]}` };
    case 'wait':
      await delay(command.ms);
      return { value: null };
    case 'help': {
      const text = helpText(print);
      return { value: helpText({ colors: false }), text };
    }
    case 'exit':
      return { value: null, exit: true };
  }
};
