/**
 * examples/opentelemetry.ts, run: calls of a real server become spans of
 * a recording tracer (what an SDK would export), named after the method,
 * with the status from the code answered; a method the application does
 * not define is `unknown`; stopping stops.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanStatusCode, type Span, type SpanOptions, type SpanStatus, type Tracer } from '@opentelemetry/api';
import { traceCalls } from '../../examples/opentelemetry';
import { startServer } from '../helpers/fixtures';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  status?: SpanStatus;
  exceptions: unknown[];
  ended: boolean;
}

/** The part of a Tracer the example uses, recording what it is told. */
const recordingTracer = (spans: Recorded[]): Tracer => ({
  startSpan: (name: string, options?: SpanOptions): Span => {
    const recorded: Recorded = { name, attributes: { ...options?.attributes }, exceptions: [], ended: false };
    spans.push(recorded);
    const span = {
      setAttribute: (key: string, value: unknown) => {
        recorded.attributes[key] = value;
        return span;
      },
      setStatus: (status: SpanStatus) => {
        recorded.status = status;
        return span;
      },
      recordException: (exception: unknown) => {
        recorded.exceptions.push(exception);
      },
      end: () => {
        recorded.ended = true;
      },
    };
    return span as unknown as Span;
  },
}) as unknown as Tracer;

describe('examples/opentelemetry.ts', () => {
  it('makes a span of each call, status from its code, and stops', async () => {
    const fixture = await startServer();
    const spans: Recorded[] = [];
    const stop = traceCalls(recordingTracer(spans));
    try {
      const client = await fixture.connect('tcp');
      assert.equal(await client.call('calc', 'slowEcho', 'x', 5), 'x');
      await assert.rejects(client.call('calc', 'missing'), { code: 14 });
      assert.deepEqual(spans.map(({ name, status, ended }) => [name, status?.code, ended]), [
        ['rpc testApp/calc.slowEcho', SpanStatusCode.OK, true],
        ['rpc testApp/unknown', SpanStatusCode.ERROR, true],
      ]);
      assert.equal(spans[0]?.attributes['rpc.method'], 'slowEcho');
      assert.equal(spans[0]?.attributes['tjstp.code'], 0);
      assert.equal(spans[1]?.attributes['tjstp.code'], 14);
      assert.equal(spans[1]?.exceptions.length, 1);
      stop();
      assert.equal(await client.call('calc', 'add', 1, 2), 3);
      assert.equal(spans.length, 2);
    } finally {
      stop();
      await fixture.close();
    }
  });
});
