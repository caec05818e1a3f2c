/**
 * The tolerant parser for JSTP "record syntax" (mdsf), the JavaScript
 * object-literal dialect that @metarhia/jstp 2.3.0 emits.
 *
 * JSON goes through `JSON.parse`; this is the slow path for everything else.
 * It accepts what the reference's pure-JS parser (`mdsf/lib/serde-fallback.js`)
 * accepts, plus `NaN` and `Infinity`, which the reference emits. See
 * `jstp-protocol.md` §2.2. The input is untrusted network data, so the
 * parser is a single linear pass, bounds its recursion and never lets a key
 * reach an object's prototype.
 */

/** Thrown for every malformed input; `position` indexes the input string. */
export class RecordSyntaxError extends SyntaxError {
  /** Index (in UTF-16 code units) in the input where parsing failed. */
  readonly position: number;

  /**
   * @param description - what is wrong, without the position
   * @param position - index in the input; appended to the message
   */
  constructor(description: string, position: number) {
    super(`${description} at position ${position}`);
    this.name = 'RecordSyntaxError';
    this.position = position;
  }
}

/** Options of {@link parseRecord}. */
export interface RecordParseOptions {
  /**
   * Deepest nesting of arrays and objects accepted (default 1000). Deeper
   * input is rejected before it can exhaust the call stack.
   */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 1000;

// Inlined by tsc, so the hot loops compare against literals.
const enum Ch {
  Tab = 0x09, LineFeed = 0x0a, CarriageReturn = 0x0d, Space = 0x20,
  DoubleQuote = 0x22, Dollar = 0x24, SingleQuote = 0x27, Star = 0x2a,
  Plus = 0x2b, Comma = 0x2c, Minus = 0x2d, Dot = 0x2e, Slash = 0x2f,
  Zero = 0x30, Seven = 0x37, Nine = 0x39, Colon = 0x3a,
  UpperA = 0x41, UpperE = 0x45, UpperF = 0x46, UpperI = 0x49, UpperZ = 0x5a,
  LeftBracket = 0x5b, Backslash = 0x5c, RightBracket = 0x5d,
  Underscore = 0x5f, LowerA = 0x61, LowerB = 0x62, LowerE = 0x65,
  LowerF = 0x66, LowerN = 0x6e, LowerO = 0x6f, LowerR = 0x72, LowerT = 0x74,
  LowerU = 0x75, LowerV = 0x76, LowerX = 0x78, LowerZ = 0x7a,
  LeftBrace = 0x7b, RightBrace = 0x7d,
}

const isDigit = (c: number): boolean => c >= Ch.Zero && c <= Ch.Nine;

const isIdentifierStart = (c: number): boolean =>
  (c >= Ch.LowerA && c <= Ch.LowerZ) ||
  (c >= Ch.UpperA && c <= Ch.UpperZ) ||
  c === Ch.Underscore ||
  c === Ch.Dollar;

const isIdentifierPart = (c: number): boolean =>
  isIdentifierStart(c) || isDigit(c);

/** Value of a hexadecimal digit, or -1; NaN (end of input) gives -1 too. */
const hexValue = (c: number): number => {
  if (c >= Ch.Zero && c <= Ch.Nine) return c - Ch.Zero;
  if (c >= Ch.LowerA && c <= Ch.LowerF) return c - Ch.LowerA + 10;
  if (c >= Ch.UpperA && c <= Ch.UpperF) return c - Ch.UpperA + 10;
  return -1;
};

// The JavaScript WhiteSpace and LineTerminator sets, as the reference
// skips them; the common ASCII ones are tested first by the caller.
const isUnicodeSpace = (c: number): boolean =>
  c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f ||
  c === 0x3000 || c === 0xfeff;

const isLineTerminator = (c: number): boolean =>
  c === Ch.LineFeed || c === Ch.CarriageReturn || c === 0x2028 || c === 0x2029;

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  [Ch.LowerB]: '\b', [Ch.LowerF]: '\f', [Ch.LowerN]: '\n',
  [Ch.LowerR]: '\r', [Ch.LowerT]: '\t', [Ch.LowerV]: '\v',
};

// Plain assignment of "__proto__" would call the setter on Object.prototype
// and replace the prototype; JSON.parse creates an own property instead.
const setMember = (
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void => {
  if (key === '__proto__') {
    const flags = { enumerable: true, writable: true, configurable: true };
    Object.defineProperty(target, key, { ...flags, value });
  } else {
    target[key] = value;
  }
};

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  get position(): number {
    return this.pos;
  }

  parse(): unknown {
    const result = this.value();
    this.skipWhitespaceAndComments();
    if (this.pos < this.text.length) this.unexpected(this.pos);
    return result;
  }

  private value(): unknown {
    this.skipWhitespaceAndComments();
    const c = this.text.charCodeAt(this.pos);
    if (c === Ch.LeftBrace) return this.object();
    if (c === Ch.LeftBracket) return this.array();
    if (c === Ch.SingleQuote || c === Ch.DoubleQuote) return this.string(c);
    if (isDigit(c) || c === Ch.Minus || c === Ch.Plus || c === Ch.Dot) {
      return this.number();
    }
    if (isIdentifierStart(c)) return this.identifier();
    return this.unexpected(this.pos);
  }

  private object(): Record<string, unknown> {
    this.enter();
    const result: Record<string, unknown> = {};
    this.pos++;
    for (;;) {
      this.skipWhitespaceAndComments();
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.RightBrace) break;
      const key =
        c === Ch.SingleQuote || c === Ch.DoubleQuote
          ? this.string(c)
          : this.bareKey();
      this.skipWhitespaceAndComments();
      if (this.text.charCodeAt(this.pos) !== Ch.Colon) {
        this.unexpected(this.pos);
      }
      this.pos++;
      const member = this.value();
      // The reference skips the assignment, so `{a:1,a:undefined}` keeps 1.
      if (member !== undefined) setMember(result, key, member);
      this.expectSeparator(Ch.RightBrace);
    }
    this.pos++;
    this.depth--;
    return result;
  }

  private array(): unknown[] {
    this.enter();
    const result: unknown[] = [];
    this.pos++;
    for (;;) {
      this.skipWhitespaceAndComments();
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.RightBracket) break;
      if (c === Ch.Comma) {
        // A hole is materialized, not left sparse: consumers index it.
        result.push(undefined);
        this.pos++;
        continue;
      }
      result.push(this.value());
      this.expectSeparator(Ch.RightBracket);
    }
    this.pos++;
    this.depth--;
    return result;
  }

  /** After a member: a comma is consumed; the closer is left for the loop. */
  private expectSeparator(closer: number): void {
    this.skipWhitespaceAndComments();
    const c = this.text.charCodeAt(this.pos);
    if (c === Ch.Comma) this.pos++;
    else if (c !== closer) this.unexpected(this.pos);
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) {
      this.fail(`Nesting deeper than ${this.maxDepth} levels`, this.pos);
    }
  }

  private bareKey(): string {
    const text = this.text;
    const start = this.pos;
    if (!isIdentifierStart(text.charCodeAt(start))) this.unexpected(start);
    let i = start + 1;
    while (isIdentifierPart(text.charCodeAt(i))) i++;
    this.pos = i;
    return text.slice(start, i);
  }

  private identifier(): unknown {
    const text = this.text;
    const start = this.pos;
    let i = start + 1;
    while (isIdentifierPart(text.charCodeAt(i))) i++;
    const word = text.slice(start, i);
    this.pos = i;
    switch (word) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'NaN':
        return NaN;
      case 'Infinity':
        return Infinity;
      default:
        return this.fail(`Unexpected identifier "${word}"`, start);
    }
  }

  private string(quote: number): string {
    const text = this.text;
    const length = text.length;
    const start = this.pos;
    let i = start + 1;
    let chunkStart = i;
    let result = '';
    for (;;) {
      if (i >= length) this.fail('Unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === quote) {
        this.pos = i + 1;
        // Without escapes `result` is '' and this is the only copy made.
        return result + text.slice(chunkStart, i);
      }
      if (c === Ch.Backslash) {
        result += text.slice(chunkStart, i) + this.escape(i);
        i = chunkStart = this.pos;
      } else {
        i++;
      }
    }
  }

  /** Decodes the escape whose backslash is at `at`; leaves `pos` after it. */
  private escape(at: number): string {
    const text = this.text;
    const i = at + 1;
    const c = text.charCodeAt(i);
    if (c === Ch.LowerX) return this.hexEscape(at, i + 1, 2);
    if (c === Ch.LowerU) {
      if (text.charCodeAt(i + 1) === Ch.LeftBrace) {
        return this.codePointEscape(at, i + 2);
      }
      return this.hexEscape(at, i + 1, 4);
    }
    if (c >= Ch.Zero && c <= Ch.Seven) return this.octalEscape(i);
    if (i >= text.length) this.fail('Unterminated string', at);
    this.pos = i + 1;
    // Everything else, quotes, backslash and newlines included, is itself.
    return SIMPLE_ESCAPES[c] ?? text[i];
  }

  private hexEscape(at: number, from: number, count: number): string {
    let code = 0;
    for (let i = from; i < from + count; i++) {
      const digit = hexValue(this.text.charCodeAt(i));
      if (digit < 0) this.fail('Invalid escape sequence', at);
      code = code * 16 + digit;
    }
    this.pos = from + count;
    return String.fromCharCode(code);
  }

  private codePointEscape(at: number, from: number): string {
    let code = 0;
    let i = from;
    let digit = hexValue(this.text.charCodeAt(i));
    while (digit >= 0) {
      code = code * 16 + digit;
      // Checked per digit so a long run of digits cannot overflow.
      if (code > 0x10ffff) this.fail('Invalid code point escape', at);
      digit = hexValue(this.text.charCodeAt(++i));
    }
    if (i === from || this.text.charCodeAt(i) !== Ch.RightBrace) {
      this.fail('Invalid code point escape', at);
    }
    this.pos = i + 1;
    return String.fromCodePoint(code);
  }

  // JavaScript's legacy rule, so values stay within \0-\377: `\477` is
  // `\47` followed by "7".
  private octalEscape(from: number): string {
    const text = this.text;
    let code = text.charCodeAt(from) - Ch.Zero;
    const end = from + (code <= 3 ? 3 : 2);
    let i = from + 1;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < Ch.Zero || c > Ch.Seven) break;
      code = code * 8 + (c - Ch.Zero);
      i++;
    }
    this.pos = i;
    return String.fromCharCode(code);
  }

  private number(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    let c = text.charCodeAt(i);
    const negative = c === Ch.Minus;
    if (negative || c === Ch.Plus) c = text.charCodeAt(++i);
    if (c === Ch.UpperI && text.startsWith('Infinity', i)) {
      this.pos = i + 8;
      return negative ? -Infinity : Infinity;
    }
    if (c === Ch.Zero) {
      const next = text.charCodeAt(i + 1);
      if (next === Ch.LowerX || next === Ch.LowerB || next === Ch.LowerO) {
        return this.prefixedInteger(i, negative);
      }
      if (isDigit(next)) {
        this.fail('Leading zeros (legacy octal) are not allowed', start);
      }
    }
    const integerStart = i;
    let integer = 0;
    while (isDigit(c)) {
      integer = integer * 10 + (c - Ch.Zero);
      c = text.charCodeAt(++i);
    }
    const integerDigits = i - integerStart;
    let simple = true;
    if (c === Ch.Dot) {
      simple = false;
      const fractionStart = i + 1;
      c = text.charCodeAt(++i);
      while (isDigit(c)) c = text.charCodeAt(++i);
      if (integerDigits === 0 && i === fractionStart) this.unexpected(i);
    } else if (integerDigits === 0) {
      this.unexpected(i);
    }
    if (c === Ch.LowerE || c === Ch.UpperE) {
      simple = false;
      c = text.charCodeAt(++i);
      if (c === Ch.Plus || c === Ch.Minus) c = text.charCodeAt(++i);
      const exponentStart = i;
      while (isDigit(c)) c = text.charCodeAt(++i);
      if (i === exponentStart) this.unexpected(i);
    }
    this.pos = i;
    // Up to 15 digits the running integer is exact; beyond, or with a
    // fraction or exponent, defer to the engine's correctly rounded parser.
    if (simple && integerDigits <= 15) return negative ? -integer : integer;
    return Number(text.slice(start, i));
  }

  /** `0x`, `0b`, `0o` (lower case, as in the reference) at `zero`. */
  private prefixedInteger(zero: number, negative: boolean): number {
    const text = this.text;
    const prefix = text.charCodeAt(zero + 1);
    const radix = prefix === Ch.LowerX ? 16 : prefix === Ch.LowerB ? 2 : 8;
    let i = zero + 2;
    let digit = hexValue(text.charCodeAt(i));
    while (digit >= 0 && digit < radix) digit = hexValue(text.charCodeAt(++i));
    if (i === zero + 2) this.unexpected(i);
    this.pos = i;
    // Number() reads the prefixed form exactly but rejects a sign before it.
    const magnitude = Number(text.slice(zero, i));
    return negative ? -magnitude : magnitude;
  }

  private skipWhitespaceAndComments(): void {
    const text = this.text;
    const length = text.length;
    let i = this.pos;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c === Ch.Space || (c >= Ch.Tab && c <= Ch.CarriageReturn)) {
        i++;
      } else if (c === Ch.Slash) {
        const next = text.charCodeAt(i + 1);
        if (next === Ch.Slash) {
          i += 2;
          while (i < length && !isLineTerminator(text.charCodeAt(i))) i++;
        } else if (next === Ch.Star) {
          const end = text.indexOf('*/', i + 2);
          if (end < 0) this.fail('Unterminated comment', i);
          i = end + 2;
        } else {
          break; // a lone slash is reported by the caller
        }
      } else if (c >= 0xa0 && isUnicodeSpace(c)) {
        i++;
      } else {
        break;
      }
    }
    this.pos = i;
  }

  private unexpected(at: number): never {
    if (at >= this.text.length) this.fail('Unexpected end of input', at);
    const shown = String.fromCodePoint(this.text.codePointAt(at) ?? 0);
    return this.fail(`Unexpected character ${JSON.stringify(shown)}`, at);
  }

  private fail(description: string, at: number): never {
    throw new RecordSyntaxError(description, at);
  }
}

/**
 * Parses one JSTP record-syntax value (a superset of JSON).
 *
 * Beyond JSON it accepts bare ASCII identifier keys, single-quoted strings,
 * JavaScript escapes (`\xHH`, `\u{…}`, octal, `\v`), `undefined`, array
 * holes, trailing commas, `+`/`.`-led and `0x`/`0b`/`0o` numbers, `NaN`,
 * `Infinity` and comments. Holes become `undefined` elements; object members
 * whose value is `undefined` are left out; a `__proto__` key becomes an own
 * property, as with `JSON.parse`.
 *
 * @param text - the whole value, e.g. one message without its `\0` terminator
 * @param options - limits; see {@link RecordParseOptions}
 * @returns the parsed value, which can be any JSON-like value or `undefined`
 * @throws {@link RecordSyntaxError} on any malformed or too deeply nested input
 * @throws RangeError if `options.maxDepth` is negative or NaN
 */
export function parseRecord(
  text: string,
  options?: RecordParseOptions,
): unknown {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!(maxDepth >= 0)) {
    throw new RangeError(`maxDepth must be >= 0, got ${maxDepth}`);
  }
  const parser = new Parser(text, maxDepth);
  try {
    return parser.parse();
  } catch (error) {
    // Only reachable when a caller raises maxDepth beyond what the stack
    // holds; the promise that nothing but RecordSyntaxError escapes stands.
    if (error instanceof RangeError) {
      throw new RecordSyntaxError('Nesting too deep', parser.position);
    }
    throw error;
  }
}
