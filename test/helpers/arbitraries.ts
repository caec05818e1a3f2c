/**
 * fast-check arbitraries of hostile JSTP input, shared by the malformed
 * fuzz test and the soak's fuzz run (`bench/soak/fuzz-inputs.ts`).
 */
import fc from 'fast-check';

/** Valid messages with edits at random positions: some characters deleted, a few inserted. */
export const editedFrom = (valid: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...valid),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3, unit: 'binary' })), { minLength: 1, maxLength: 4 }),
    )
    .map(([text, edits]) => {
      let out = text;
      for (const [at, remove, insert] of edits) {
        const position = at % (out.length + 1);
        out = out.slice(0, position) + insert + out.slice(position + remove);
      }
      return out;
    });

/** A known kind (or not) with any header, verb and body. */
export const reshaped = fc
  .tuple(fc.constantFrom('call', 'callback', 'event', 'inspect', 'ping', 'pong', 'ack', 'handshake', 'close', 'x'), fc.jsonValue(), fc.string({ maxLength: 8 }), fc.jsonValue())
  .map(([kind, head, verb, value]) => JSON.stringify({ [kind]: head, [verb]: value }));

/** Any characters. */
export const anyText = fc.string({ maxLength: 200, unit: 'binary' });

/** Strings of JSON's punctuation (and NULs): parsers' edge cases. */
export const punctuation = fc.string({ maxLength: 60, unit: fc.constantFrom('{', '}', '[', ']', ',', ':', "'", '"', '0', '1', '-', 'a', ' ', '\\', '\0') });

export const malformedText = fc.oneof(anyText, punctuation);

/** Any JSON value, as text. */
export const randomJson = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'undefined');
