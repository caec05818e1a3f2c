/**
 * tjstp calls as OpenTelemetry spans, from the `tjstp:call` TracingChannel
 * the server publishes on: one SERVER span per call, named after the
 * method (`rpc chat/rooms.say`; `unknown` for a method the application
 * does not define, so span names stay few), its status from the code the
 * call was answered with. tjstp does not depend on OpenTelemetry: this is
 * your code, with `@opentelemetry/api` and the SDK and exporter you chose.
 *
 *   import { trace } from '@opentelemetry/api';
 *   const stop = traceCalls(trace.getTracer('tjstp'));
 *
 * The span is not made the active context of the method: OpenTelemetry's
 * context manager keeps its own AsyncLocalStorage, which a subscriber
 * cannot enter. An agent that owns its storage binds it to
 * `tracing:tjstp:call:start` (`bindStore`); the method then runs in it.
 */
import diagnostics from 'node:diagnostics_channel';
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { DiagnosticsChannel, type CallContext } from 'tjstp';

/** Starts making spans of every call of every server in this process; returns what stops it. */
export const traceCalls = (tracer: Tracer): (() => void) => {
  const channel = diagnostics.tracingChannel<unknown, CallContext>(DiagnosticsChannel.CALL);
  const spans = new WeakMap<CallContext, Span>();
  const finish = (call: CallContext): void => {
    const span = spans.get(call);
    if (span === undefined || call.code === undefined) return;
    spans.delete(call);
    span.setAttribute('tjstp.code', call.code);
    if (call.code === 0) span.setStatus({ code: SpanStatusCode.OK });
    else span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${call.code}` });
    span.end();
  };
  const handlers = {
    start: (call: CallContext): void => {
      const name = call.known ? `${call.iface}.${call.method}` : 'unknown';
      spans.set(call, tracer.startSpan(`rpc ${call.app}/${name}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'jstp',
          // A name the application does not define is the client's input: never an attribute.
          'rpc.service': call.known ? `${call.app}.${call.iface}` : `${call.app}.unknown`,
          'rpc.method': call.known ? call.method : 'unknown',
          'tjstp.app.version': call.version,
          'tjstp.session': call.session,
          // OpenTelemetry's network.transport knows tcp, pipe and unix, not WebSocket: tjstp's own name.
          'tjstp.transport': call.transport ?? 'none',
        },
      }));
    },
    // A method that answered at once has its code by `end`; one that returned a promise, by `asyncEnd`.
    end: finish,
    asyncStart: (): void => {},
    asyncEnd: finish,
    error: (call: CallContext): void => {
      const { error } = call;
      // What the application threw (RemoteErrors included); the client was answered with `code`.
      if (error instanceof Error) spans.get(call)?.recordException(error);
    },
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
};
