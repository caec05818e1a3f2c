import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseRecord,
  RecordSyntaxError,
} from '../../lib/protocol/record';

type Case = readonly [input: string, expected: unknown];

const parsesTo = (cases: readonly Case[]): void => {
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.deepStrictEqual(parseRecord(input), expected);
    });
  }
};

const rejectsWith = (input: string, options?: { maxDepth?: number }) => {
  let thrown: unknown;
  try {
    parseRecord(input, options);
  } catch (error) {
    thrown = error;
  }
  assert.ok(
    thrown instanceof RecordSyntaxError,
    `expected a RecordSyntaxError for ${JSON.stringify(input).slice(0, 80)}, got ${String(thrown)}`,
  );
  assert.ok(thrown instanceof SyntaxError);
  assert.ok(thrown.position >= 0 && thrown.position <= input.length);
  assert.match(thrown.message, / at position \d+$/);
  return thrown;
};

/** Returns normally or throws RecordSyntaxError; anything else fails. */
const parsesOrRejects = (input: string): void => {
  try {
    parseRecord(input);
  } catch (error) {
    if (!(error instanceof RecordSyntaxError)) throw error;
    assert.ok(error.position >= 0 && error.position <= input.length);
  }
};

describe('parseRecord: the §2.2 table', () => {
  parsesTo([
    [`{call:[1,'x']}`, { call: [1, 'x'] }],
    [`{$a_1:1,_:2,A$:3}`, { $a_1: 1, _: 2, A$: 3 }],
    [`'a'`, 'a'],
    [`"a"`, 'a'],
    [`{'a-b':1,"c d":2}`, { 'a-b': 1, 'c d': 2 }],
    [String.raw`'a\x41\u0042\u{43}'`, 'aABC'],
    ["'line1\nline2'", 'line1\nline2'],
    ["'cr\r\nlf\u2028ls'", 'cr\r\nlf\u2028ls'],
    [`[undefined]`, [undefined]],
    [`undefined`, undefined],
    [`[,1]`, [undefined, 1]],
    [`[1,,2]`, [1, undefined, 2]],
    [`[1,]`, [1]],
    [`[,]`, [undefined]],
    [`[1,,]`, [1, undefined]],
    [`[]`, []],
    [`{a:1,}`, { a: 1 }],
    [`{}`, {}],
    [`{a:undefined,b:2}`, { b: 2 }],
    [`+1`, 1],
    [`.5`, 0.5],
    [`-.5`, -0.5],
    [`5.`, 5],
    [`1.e2`, 100],
    [`0x10`, 16],
    [`0xfF`, 255],
    [`-0x10`, -16],
    [`0b11`, 3],
    [`0o7`, 7],
    [`0o17`, 15],
    [`/*c*/{a:1}`, { a: 1 }],
    [`//c\n{a:1}//end`, { a: 1 }],
    [`{/*1*/a/*2*/:/*3*/1/*4*/,/*5*/}`, { a: 1 }],
    [`/*a*//*b*/ // c\n 1`, 1],
    ['//c\u2028[//d\r1//e\u2029]', [1]],
    [`{a:1,a:2}`, { a: 2 }],
  ]);
});

describe('parseRecord: JSON and numbers', () => {
  parsesTo([
    [`{"a":[1,-2,3.5e2,1E-2,true,false,null,"x"]}`, { a: [1, -2, 350, 0.01, true, false, null, 'x'] }],
    [` \t\r\n 7 \n`, 7],
    ['\u00a0\ufeff\u2003[1]\u3000', [1]],
    [`0`, 0],
    [`-0`, -0],
    [`0.5`, 0.5],
    [`123456789012345`, 123456789012345],
    [`12345678901234567890`, 12345678901234567890],
    [`9007199254740993`, 9007199254740992],
    [`1e400`, Infinity],
    [`NaN`, NaN],
    [`Infinity`, Infinity],
    [`-Infinity`, -Infinity],
    [`+Infinity`, Infinity],
    [`[NaN,-Infinity]`, [NaN, -Infinity]],
    [`{true:1,null:2,undefined:3,NaN:4}`, { true: 1, null: 2, undefined: 3, NaN: 4 }],
  ]);

  it('keeps member order, which JSTP relies on', () => {
    const message = parseRecord(`{call:[2,'calc'],add:[2,3]}`) as object;
    assert.deepStrictEqual(Object.keys(message), ['call', 'add']);
  });

  it('keeps the first position of a duplicated key, like JSON.parse', () => {
    const text = '{"a":1,"b":2,"a":3}';
    const result = parseRecord(text) as object;
    assert.deepStrictEqual(Object.entries(result), Object.entries(JSON.parse(text)));
  });

  it('keeps an earlier value when a duplicate is undefined, as the reference does', () => {
    assert.deepStrictEqual(parseRecord(`{a:1,a:undefined}`), { a: 1 });
  });

  it('materializes holes instead of leaving sparse arrays', () => {
    const result = parseRecord(`[,1]`) as unknown[];
    assert.ok(Object.hasOwn(result, 0));
  });
});

describe('parseRecord: escapes', () => {
  parsesTo([
    [String.raw`'\b\f\n\r\t\v'`, '\b\f\n\r\t\v'],
    [String.raw`'\x41\x6a\x6A'`, 'Ajj'],
    [String.raw`'\u0041\u00e9\u00E9'`, 'Aéé'],
    [String.raw`'\u{1F600}\u{0}\u{000041}\u{10FFFF}'`, '\u{1F600}\0A\u{10FFFF}'],
    [String.raw`'\0'`, '\0'],
    [String.raw`'\7\101\377\08'`, '\x07A\xff\x008'],
    [String.raw`'\477'`, "'7"],
    [String.raw`'\8\9\q\/\\\'\"'`, `89q/\\'"`],
    ["'a\\\nb'", 'a\nb'],
    [String.raw`"it's \"q\""`, `it's "q"`],
    [String.raw`'it\'s \"q\"'`, `it's "q"`],
    [`'"'`, '"'],
    [`"'"`, "'"],
    [String.raw`'\uD800'`, '\uD800'],
    ["'\uDC00x\uD800'", '\uDC00x\uD800'],
    ["'\\\uD83D\uDE00'", '\u{1F600}'],
    [String.raw`{'\x61':1,"\u0062":2}`, { a: 1, b: 2 }],
    [`''`, ''],
  ]);
});

const uuid = '6b116360-cb99-47e4-a39e-647d347ee69f';

describe('parseRecord: messages from the reference traces', () => {
  parsesTo([
    [`{handshake:[0,'testApp']}`, { handshake: [0, 'testApp'] }],
    [`{handshake:[0],ok:'${uuid}'}`, { handshake: [0], ok: uuid }],
    [`{handshake:[0,'testApp'],session:['${uuid}',7]}`, { handshake: [0, 'testApp'], session: [uuid, 7] }],
    [`{handshake:[0],ok:13}`, { handshake: [0], ok: 13 }],
    [`{handshake:[0],error:[10]}`, { handshake: [0], error: [10] }],
    [`{"handshake":[0,"testApp"]}`, { handshake: [0, 'testApp'] }],
    [`{inspect:[1,'calc']}`, { inspect: [1, 'calc'] }],
    [
      `{callback:[1],ok:['add','echo','counter','fire','slowAdd','broadcast','stats']}`,
      { callback: [1], ok: ['add', 'echo', 'counter', 'fire', 'slowAdd', 'broadcast', 'stats'] },
    ],
    [`{call:[2,'calc'],add:[2,3]}`, { call: [2, 'calc'], add: [2, 3] }],
    [`{call:[9,'calc'],slowAdd:[5,5]}`, { call: [9, 'calc'], slowAdd: [5, 5] }],
    [`{call:[4,'calc'],counter:[]}`, { call: [4, 'calc'], counter: [] }],
    [
      String.raw`{call:[3,'calc'],echo:[{nested:[1,'two',null,true],s:'it\'s \"q\"'}]}`,
      { call: [3, 'calc'], echo: [{ nested: [1, 'two', null, true], s: `it's "q"` }] },
    ],
    [
      String.raw`{callback:[3],ok:[{nested:[1,'two',null,true],s:'it\'s \"q\"'}]}`,
      { callback: [3], ok: [{ nested: [1, 'two', null, true], s: `it's "q"` }] },
    ],
    [`{callback:[2],ok:[5]}`, { callback: [2], ok: [5] }],
    [`{callback:[18],error:[17]}`, { callback: [18], error: [17] }],
    [`{event:[-1,'calc'],tick:['A',0]}`, { event: [-1, 'calc'], tick: ['A', 0] }],
    [`{event:[11,'calc'],scheduleTicks:['B',3,400]}`, { event: [11, 'calc'], scheduleTicks: ['B', 3, 400] }],
    [`{callback:[8],ok:[{clients:1,listed:true}]}`, { callback: [8], ok: [{ clients: 1, listed: true }] }],
    [`{pong:[1]}`, { pong: [1] }],
    [
      `{callback:[22],ok:[{sessionId:'${uuid}',username:null,connectionId:0,receivedCount:22,guaranteedDeliveredCount:7,latestBufferedMessageId:-10,bufferedKeys:[8,9,10],notes:['offline-note'],listedInServerClients:false}]}`,
      {
        callback: [22],
        ok: [
          {
            sessionId: uuid,
            username: null,
            connectionId: 0,
            receivedCount: 22,
            guaranteedDeliveredCount: 7,
            latestBufferedMessageId: -10,
            bufferedKeys: [8, 9, 10],
            notes: ['offline-note'],
            listedInServerClients: false,
          },
        ],
      },
    ],
    // probe-raw-reference.txt, relaxedSyntax: the reply ends in a hole and a
    // trailing comma, so the last element is one undefined, not two.
    [
      `{callback:[1],ok:[[16,3,7,0.5,1,'aABC','dq',,]]}`,
      { callback: [1], ok: [[16, 3, 7, 0.5, 1, 'aABC', 'dq', undefined]] },
    ],
    // A request in the spirit of that probe (reconstructed, not captured).
    [
      String.raw`/*probe*/{call:[1,'calc'],echo:[[0x10,0b11,0o7,.5,+1,'a\x41\u0042\u{43}',"dq",undefined]]}`,
      { call: [1, 'calc'], echo: [[16, 3, 7, 0.5, 1, 'aABC', 'dq', undefined]] },
    ],
  ]);
});

describe('parseRecord: rejects', () => {
  const rejects = [
    '', '   ', '/* only */', '012', '-012', '00', '08', '0X10', '0B1', '0O7', '0x', '0b2',
    '0o8', '1e', '1e+', '.', '+', '-', '.e5', '-NaN', '1_000', '1 2', '[1 2]',
    '{ключ:1}', '{1:2}', '{-1:2}', '{a b:1}', '{a 1}', '{a:}', '{:1}', '{,}', '{a:1,,}',
    '[1,,', '[', '{', '{a:1', '[1,}', '{a:1]', ']', '}', ',', ':', '{a:1}x', '[]]',
    "'abc", '"abc', "'abc\"", "'\\", "'\\'", '/*', '/* abc', '/* a */ /*', '/', '/x/', '1 /',
    "'\\x4'", "'\\x4g'", "'\\xg0'", "'\\u12'", "'\\u12g4'", "'\\u{}'", "'\\u{110000}'",
    "'\\u{12'", "'\\u{1g}'", `'\\u{${'0'.repeat(10)}1x}'`, "'\\u{FFFFFFFFFFFFFFFFFFFF}'",
    'nul', 'True', 'NULL', 'nan', 'infinity', 'undefinedx', 'truex', 'foo', '$', '@', '#1',
    '(1)', '{a:1};', "{'a':1 'b':2}", '{a:{b:1}', '[[1]', "{a:'x'", '{"a" 1}',
  ];
  for (const input of rejects) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      rejectsWith(input);
    });
  }

  it('reports the character and its position', () => {
    const error = rejectsWith('[1,}');
    assert.equal(error.message, 'Unexpected character "}" at position 3');
    assert.equal(error.position, 3);
    assert.equal(error.name, 'RecordSyntaxError');
  });

  it('reports the end of input', () => {
    assert.equal(rejectsWith('{a:1').message, 'Unexpected end of input at position 4');
  });

  it('reports a non-ASCII key by its character', () => {
    assert.equal(rejectsWith('{ключ:1}').message, 'Unexpected character "к" at position 1');
  });

  it('reports an unterminated string at its opening quote', () => {
    assert.equal(rejectsWith(`[1,'abc`).position, 3);
  });

  it('reports a bad escape at its backslash', () => {
    assert.equal(rejectsWith(String.raw`'ab\u{110000}'`).message, 'Invalid code point escape at position 3');
    assert.equal(rejectsWith(String.raw`['\x4']`).message, 'Invalid escape sequence at position 2');
  });

  it('reports an unknown identifier', () => {
    assert.equal(rejectsWith('[foo]').message, 'Unexpected identifier "foo" at position 1');
  });
});

describe('parseRecord: __proto__ safety', () => {
  it('makes a bare __proto__ key an own property', () => {
    const result = parseRecord('{__proto__:{x:1}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.ok(Object.hasOwn(result, '__proto__'));
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(result, '__proto__'), {
      value: { x: 1 },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    assert.equal((result as { x?: unknown }).x, undefined);
    assert.equal(({} as { x?: unknown }).x, undefined);
  });

  it('matches JSON.parse for quoted and duplicated __proto__ keys', () => {
    for (const text of ['{"__proto__":{"x":1}}', '{"__proto__":1,"__proto__":[2],"a":3}']) {
      const result = parseRecord(text) as object;
      assert.deepStrictEqual(result, JSON.parse(text));
      assert.equal(Object.getPrototypeOf(result), Object.prototype);
      assert.deepStrictEqual(Object.keys(result), Object.keys(JSON.parse(text)));
    }
  });

  it('treats other prototype names as plain own data', () => {
    const result = parseRecord(
      `{constructor:1,toString:2,hasOwnProperty:3,'__proto__':null}`,
    ) as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(result), ['constructor', 'toString', 'hasOwnProperty', '__proto__']);
    assert.equal(result.toString, 2);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(({}).toString, Object.prototype.toString);
  });
});

describe('parseRecord: depth limit', () => {
  it('rejects 100000 nested arrays with RecordSyntaxError, not RangeError', () => {
    rejectsWith('['.repeat(100_000));
    rejectsWith('['.repeat(100_000) + ']'.repeat(100_000));
    rejectsWith('{a:'.repeat(100_000) + '1' + '}'.repeat(100_000));
  });

  it('accepts exactly 1000 levels by default and rejects 1001', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    assert.ok(Array.isArray(parseRecord(nest(1000))));
    const error = rejectsWith(nest(1001));
    assert.equal(error.position, 1000);
  });

  it('honours maxDepth', () => {
    assert.deepStrictEqual(parseRecord('[{a:[]}]', { maxDepth: 3 }), [{ a: [] }]);
    rejectsWith('[{a:[]}]', { maxDepth: 2 });
    assert.equal(parseRecord('1', { maxDepth: 0 }), 1);
    rejectsWith('[]', { maxDepth: 0 });
  });

  it('still throws RecordSyntaxError when maxDepth exceeds the stack', () => {
    rejectsWith('['.repeat(1_000_000), { maxDepth: Infinity });
  });

  it('rejects a nonsensical maxDepth as a programming error', () => {
    assert.throws(() => parseRecord('1', { maxDepth: -1 }), RangeError);
    assert.throws(() => parseRecord('1', { maxDepth: NaN }), RangeError);
  });
});

describe('parseRecord: linear time', () => {
  const big: Array<[string, string]> = [
    ['a long flat array', '[' + '1,'.repeat(300_000) + ']'],
    ['a long string of escapes', `'${'\\x41\\u{42}\\n'.repeat(100_000)}'`],
    ['many comments', '/**/ '.repeat(200_000) + '1'],
    ['many members', '{' + Array.from({ length: 50_000 }, (_, i) => `k${i}:'v'`).join(',') + '}'],
    ['an unterminated string', `'${'a'.repeat(1_000_000)}`],
    ['an unterminated comment', '/*' + '*'.repeat(1_000_000)],
    ['a long line comment', '1//' + 'x'.repeat(1_000_000)],
    ['nesting at the limit, repeated', '[' + '[[[[[[[[[[1]]]]]]]]]],'.repeat(20_000) + ']'],
  ];
  for (const [name, input] of big) {
    it(`handles ${name} (${input.length} chars) quickly`, () => {
      const started = performance.now();
      parsesOrRejects(input);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2000, `${name} took ${elapsed.toFixed(0)} ms`);
    });
  }
});

// --- property-based -------------------------------------------------------

type Pair = { value: unknown; text: string };

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const clutter = fc.constantFrom(
  '', '', '', ' ', '\n', '\t', '\r\n', '\u00a0', '/* c */', '//line\n', ' /*a*/ /*b*/ ', '/**/',
);

const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: fc.constantFrom("'", '"', '\\', '\n', '/', '*', 'u', '{', 'x', '0') }),
);

/** The reference's style (JSON escapes, then \') and two more. */
const quote = (s: string, style: number): string => {
  if (style === 0) return `'${JSON.stringify(s).slice(1, -1).replace(/'/g, "\\'")}'`;
  if (style === 1) return JSON.stringify(s);
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
};

const stringPair = fc
  .tuple(anyString, fc.nat(2))
  .map(([s, style]): Pair => ({ value: s, text: quote(s, style) }));

const numberPair = fc.oneof(
  fc.double().map((n): Pair => ({ value: Object.is(n, -0) ? 0 : n, text: String(n) })),
  fc.tuple(fc.nat(), fc.nat(4)).map(([n, form]): Pair => ({
    value: n,
    text: ['0x' + n.toString(16), '0b' + n.toString(2), '0o' + n.toString(8), '+' + n, String(n)][form]!,
  })),
  fc.integer({ min: 1, max: 999 }).map((n): Pair => ({ value: n / 1000, text: '.' + String(n).padStart(3, '0') })),
);

const literalPair = fc.constantFrom<Pair>(
  { value: true, text: 'true' },
  { value: false, text: 'false' },
  { value: null, text: 'null' },
);

const keyArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,6}$/),
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'null', 'undefined', 'a'),
);

const { value: recordPair } = fc.letrec<{ value: Pair; array: Pair; object: Pair }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literalPair,
    numberPair,
    stringPair,
    tie('array'),
    tie('object'),
  ),
  array: fc
    .tuple(
      fc.array(fc.tuple(fc.option(tie('value'), { freq: 6 }), fc.boolean(), clutter, clutter), { maxLength: 5 }),
      fc.boolean(),
      clutter,
    )
    .map(([items, trailing, inner]): Pair => {
      const value = items.map(([item]) => (item === null ? undefined : item.value));
      const parts = items.map(([item, spelled, before, after]) => {
        if (item !== null) return before + item.text + after;
        return spelled ? `${before}undefined${after}` : before;
      });
      const lastIsHole = items.length > 0 && items[items.length - 1]![0] === null;
      const comma = items.length > 0 && (trailing || lastIsHole) ? ',' : '';
      return { value, text: `[${inner}${parts.join(',')}${comma}]` };
    }),
  object: fc
    .tuple(
      fc.array(fc.tuple(keyArb, tie('value'), fc.boolean(), fc.boolean(), clutter, clutter), { maxLength: 5 }),
      fc.boolean(),
      clutter,
    )
    .map(([members, trailing, inner]): Pair => {
      const value: Record<string, unknown> = {};
      const parts = members.map(([key, member, quoted, withUndefined, before, after]) => {
        Object.defineProperty(value, key, {
          value: member.value, enumerable: true, writable: true, configurable: true,
        });
        const keyText = identifier.test(key) && !quoted ? key : quote(key, 0);
        const extra = withUndefined ? `${keyText}:undefined,` : '';
        return `${before}${extra}${keyText}${after}:${before}${member.text}${after}`;
      });
      const comma = members.length > 0 && trailing ? ',' : '';
      return { value, text: `{${inner}${parts.join(',')}${comma}}` };
    }),
}));

describe('parseRecord: properties', () => {
  it('agrees with JSON.parse on every JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        assert.deepStrictEqual(parseRecord(text), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.parse on pretty-printed JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v, null, '\t');
        assert.deepStrictEqual(parseRecord(text), JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });

  it('reads back values written in record style', () => {
    fc.assert(
      fc.property(recordPair, clutter, clutter, ({ value, text }, before, after) => {
        assert.deepStrictEqual(parseRecord(before + text + after), value);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseRecord: fuzz', () => {
  const syntaxChars = [...`{}[],:'"\\/*\n 0123456789abefnrtuvxo+-.eE_$INaly`];
  const syntaxSoup = fc.string({ unit: fc.constantFrom(...syntaxChars), maxLength: 40 });

  const corpus = [
    `{call:[9,'calc'],slowAdd:[5,5]}`,
    String.raw`{callback:[3],ok:[{nested:[1,'two',null,true],s:'it\'s \"q\"'}]}`,
    `{callback:[1],ok:[[16,3,7,0.5,1,'aABC','dq',,]]}`,
    String.raw`/*c*/{a:[0x1f,.5,+1,-Infinity,NaN,'\u{41}\x41\101'],"b":undefined,//x` + '\n}',
    `{"handshake":[0,"testApp"]}`,
  ];
  const mutation = fc.oneof(
    fc.tuple(fc.constantFrom(...corpus), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
    fc.tuple(fc.constantFrom(...corpus), fc.nat(), fc.constantFrom(...syntaxChars, '\0', 'é', '\uD800'))
      .map(([s, n, c]) => { const i = n % (s.length + 1); return s.slice(0, i) + c + s.slice(i); }),
    fc.tuple(fc.constantFrom(...corpus), fc.nat())
      .map(([s, n]) => { const i = n % s.length; return s.slice(0, i) + s.slice(i + 1); }),
    fc.tuple(fc.constantFrom(...corpus), fc.nat(), fc.nat())
      .map(([s, a, b]) => s.slice(0, a % (s.length + 1)) + s.slice(b % (s.length + 1))),
  );

  it('either parses or throws RecordSyntaxError on arbitrary strings', { timeout: 30_000 }, () => {
    fc.assert(fc.property(anyString, parsesOrRejects), { numRuns: 2000 });
    fc.assert(fc.property(fc.string(), parsesOrRejects), { numRuns: 2000 });
  });

  it('either parses or throws RecordSyntaxError on syntax soup', { timeout: 30_000 }, () => {
    fc.assert(fc.property(syntaxSoup, parsesOrRejects), { numRuns: 5000 });
  });

  it('either parses or throws RecordSyntaxError on mutated messages', { timeout: 30_000 }, () => {
    fc.assert(fc.property(mutation, parsesOrRejects), { numRuns: 5000 });
  });

  it('accepts whatever JSON.parse accepts, with the same result', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.oneof(syntaxSoup, mutation), (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          return;
        }
        assert.deepStrictEqual(parseRecord(text), expected);
      }),
      { numRuns: 5000 },
    );
  });
});
