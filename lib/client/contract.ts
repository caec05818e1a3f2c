/**
 * Types that let a client know an application's methods and events at
 * compile time. They describe, they never run: a typed client sends the
 * same messages as an untyped one. Nothing here imports the server, so a
 * browser bundle of the client stays free of it; an in-code application
 * is read structurally (`Client<typeof app>`).
 */

/**
 * What a typed client knows of an application, as `tjstp types` writes it:
 *
 * ```ts
 * interface ChatApi {
 *   methods: { rooms: { say(room: string, text: string): number } };
 *   events: { rooms: { message: [message: { id: number; text: string }] } };
 * }
 * ```
 *
 * `methods` maps interfaces to methods, each declared with its arguments
 * and its result (not a promise: the client adds that). `events` maps the
 * interfaces of the events the server sends to their arguments; without
 * it, any event may come, with `unknown[]` arguments.
 */
export interface ApiContract {
  readonly methods: object;
  readonly events?: object;
}

/** An in-code application (`ApplicationDefinition`), read for its `api` only. */
export interface ApplicationShape {
  readonly api: object;
}

/** What `Client<…>` accepts: a contract, or `typeof app` for an in-code application. */
export type ApiSource = ApiContract | ApplicationShape;

/** Any method of any interface, arguments unchecked. */
export interface UntypedMethods {
  readonly [iface: string]: { readonly [method: string]: (...args: unknown[]) => unknown };
}

/** Any event of any interface, arguments unknown. */
export interface UntypedEvents {
  readonly [iface: string]: { readonly [name: string]: unknown[] };
}

/** The default: a client that knows nothing of the application (today's `call`). */
export interface Untyped {
  readonly methods: UntypedMethods;
  readonly events: UntypedEvents;
}

/** A method of an in-code application as a client calls it: no context, the result unwrapped. */
export type RemoteMethodOf<M> = M extends { readonly handler: infer H }
  ? RemoteMethodOf<H>
  : M extends (context: never, ...args: infer A) => infer R
    ? (...args: A) => Awaited<R>
    : never;

/** The methods of an in-code application's `api`, as a contract declares them. */
export type MethodsOf<Api> = { [I in keyof Api]: { [M in keyof Api[I]]: RemoteMethodOf<Api[I][M]> } };

/**
 * The contract of an in-code application: `ApiOf<typeof app>`, with the
 * arguments of the events it sends as `Events` (`{ cart: { changed:
 * [count: number] } }`); without it, events are untyped.
 */
export type ApiOf<App extends ApplicationShape, Events extends object = UntypedEvents> = {
  methods: MethodsOf<App['api']>;
  events: Events;
};

/** The contract `Client<Api>` stands for. */
export type ContractOf<Api extends ApiSource> = Api extends ApiContract
  ? Api
  : Api extends ApplicationShape
    ? ApiOf<Api>
    : never;

type Methods<Api extends ApiSource> = ContractOf<Api>['methods'];
type Events<Api extends ApiSource> = ContractOf<Api> extends { readonly events: infer E extends object } ? E : UntypedEvents;

/** The interfaces a client may call. */
export type InterfaceName<Api extends ApiSource> = keyof Methods<Api> & string;

/** The methods of one interface. */
export type MethodName<Api extends ApiSource, I extends InterfaceName<Api>> = keyof Methods<Api>[I] & string;

/** A method's arguments. */
export type MethodArgs<Api extends ApiSource, I extends InterfaceName<Api>, M extends MethodName<Api, I>> =
  Methods<Api>[I][M] extends (...args: infer A) => unknown ? A : never;

/** What a method's call resolves to. */
export type MethodResult<Api extends ApiSource, I extends InterfaceName<Api>, M extends MethodName<Api, I>> =
  Methods<Api>[I][M] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** `client.api`: every interface's methods, each returning a promise of its result. */
export type RemoteApi<Api extends ApiSource> = {
  readonly [I in InterfaceName<Api>]: {
    readonly [M in MethodName<Api, I>]: (...args: MethodArgs<Api, I, M>) => Promise<MethodResult<Api, I, M>>;
  };
};

/** An event's name as `onEvent` takes it: `'rooms.message'`. */
export type EventName<Api extends ApiSource> = {
  [I in keyof Events<Api> & string]: `${I}.${keyof Events<Api>[I] & string}`;
}[keyof Events<Api> & string];

/** The arguments of the event named `K` (`'rooms.message'`). */
export type EventArgs<Api extends ApiSource, K extends string> = K extends `${infer I}.${infer N}`
  ? I extends keyof Events<Api>
    ? N extends keyof Events<Api>[I]
      ? Events<Api>[I][N] extends infer A extends readonly unknown[] ? [...A] : never
      : never
    : never
  : never;
