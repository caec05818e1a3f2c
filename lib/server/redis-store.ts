/**
 * The session store on Redis (through ioredis), for several server
 * processes: workers on one machine, or machines behind a load balancer.
 * See `session-store.ts` for the model (ownership with handover).
 *
 * Keys, under a prefix (default `tjstp:`):
 *   s:<key>   hash: owner (node, or '' while parked), fence, secret, and
 *             while parked: meta (the record without its outbox), lastSeq,
 *             bytes; expires `holdTime` after it was parked
 *   o:<key>   list: a parked session's outbox, `seq\ttext` each
 *   t:<key>   why a session ended (a tombstone), kept `tombstoneTtl`
 *   n:<node>  a live node; refreshed every second, gone 5 s after it dies
 *   pa:<app>, pc:<app>\0<channel>   sets of parked sessions, for events
 * Pub/sub: `bus` carries events between nodes, `h:<node>` handover
 * requests to a node and `r:<node>` the answers.
 *
 * Each claim, park and end is one Lua script, so it is atomic. One Redis,
 * not Redis Cluster: the scripts touch keys they compute.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { isSessionLossReason, type SessionLossReasonValue } from '../protocol/errors.js';
import type {
  Claim,
  HandoverReply,
  HandoverRequest,
  SavedSession,
  ServerSessionRecord,
  SessionStore,
  SharedEvent,
  StoreHandlers,
} from './session-store.js';
import { prepareEvent } from '../session/prepared-event.js';

export interface RedisSessionStoreOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Key and channel prefix, so several deployments can share one Redis. Default `tjstp:`. */
  prefix?: string;
  /** How long an ended session's reason is remembered, ms. Default 1 hour. */
  tombstoneTtl?: number;
  /** How long a handover may take before the restore is answered 30 (retry), ms. Default 3000. */
  handoverTimeout?: number;
  /** A parked session that collects more than this many bytes of events ends (`overflow`). Default 4 MiB. */
  maxBufferedBytes?: number;
}

const NODE_TTL = 5000;
const NODE_REFRESH = 1000;

/** KEYS: s, t, n-prefix. ARGV: node. Returns {kind, ...}. */
const CLAIM = `
local s, t = KEYS[1], KEYS[2]
if redis.call('EXISTS', s) == 0 then
  return {'gone', redis.call('GET', t) or 'not_found'}
end
local owner = redis.call('HGET', s, 'owner')
if owner ~= '' then
  -- This node's own (a restore racing another here), or a live node's.
  if owner == ARGV[1] or redis.call('EXISTS', ARGV[2] .. owner) == 1 then
    return {'owned', owner, redis.call('HGET', s, 'secret') or ''}
  end
  -- Its owner died (or forgot it): what the store has is not the session as it was.
  redis.call('DEL', s)
  redis.call('SET', t, 'not_found', 'PX', ARGV[4])
  return {'gone', 'not_found'}
end
local fence = redis.call('HINCRBY', s, 'fence', 1)
local meta = redis.call('HGET', s, 'meta')
local lastSeq = redis.call('HGET', s, 'lastSeq')
local g = redis.call('HGET', s, 'g') or '0'
local o = ARGV[3] .. 'o:' .. ARGV[5]
local outbox = redis.call('LRANGE', o, 0, -1)
redis.call('DEL', o)
redis.call('HSET', s, 'owner', ARGV[1])
redis.call('HDEL', s, 'meta', 'lastSeq', 'bytes', 'g')
redis.call('PERSIST', s)
redis.call('DEL', t)
return {'claimed', meta, lastSeq, tostring(fence), outbox, g}
`;

/**
 * Parks a batch of sessions (one call for many: a stopping node parks
 * thousands). ARGV: prefix, node, holdTime, tombstoneTtl, then per
 * session: key, fence, meta, lastSeq, bytes, the last shared event it has,
 * the number of sets N, N sets, the number of outbox entries M, M entries.
 * Returns how many were parked (one another node took meanwhile is not).
 */
const PARK = `
local p, node, hold, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local i, parked = 5, 0
while i <= #ARGV do
  local key, fence = ARGV[i], ARGV[i + 1]
  local s, o, t = p .. 's:' .. key, p .. 'o:' .. key, p .. 't:' .. key
  local sets = tonumber(ARGV[i + 6])
  local entries = tonumber(ARGV[i + 7 + sets])
  if redis.call('HGET', s, 'owner') == node and redis.call('HGET', s, 'fence') == fence then
    redis.call('HSET', s, 'owner', '', 'meta', ARGV[i + 2], 'lastSeq', ARGV[i + 3], 'bytes', ARGV[i + 4], 'g', ARGV[i + 5])
    redis.call('DEL', o)
    for j = 1, sets do
      local set = ARGV[i + 6 + j]
      redis.call('SADD', set, key)
      if redis.call('PTTL', set) < tonumber(hold) then redis.call('PEXPIRE', set, hold) end
    end
    for j = 1, entries do redis.call('RPUSH', o, ARGV[i + 7 + sets + j]) end
    redis.call('PEXPIRE', s, hold)
    if entries > 0 then redis.call('PEXPIRE', o, hold) end
    redis.call('SET', t, 'expired', 'PX', tonumber(hold) + ttl)
    parked = parked + 1
  end
  i = i + 8 + sets + entries
end
return parked
`;

/** KEYS: s, o, t. ARGV: node, reason, tombstoneTtl. Only the owner (or nobody, parked) ends a session. */
const END = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner == false then return 0 end
if owner ~= '' and owner ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS: s. ARGV: node, fence, to. Hands an owned session to another node; returns its new fence, or 0. */
const TRANSFER = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[3])
return redis.call('HINCRBY', KEYS[1], 'fence', 1)
`;

/**
 * Publishes an event: numbers it (one sequence for the whole store, so
 * every node sees events in one order), sends it on the bus, and appends
 * it to every parked session of a set, noting the number. KEYS: the set,
 * the sequence. ARGV: prefix, event body (after the id), maxBufferedBytes,
 * tombstoneTtl, bus channel, bus message.
 */
const APPEND = `
local g = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[5], tostring(g) .. '\\n' .. ARGV[6])
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  local s = ARGV[1] .. 's:' .. key
  if redis.call('HGET', s, 'owner') == '' then
    local seq = redis.call('HINCRBY', s, 'lastSeq', 1)
    local text = '{"event":[' .. tostring(-seq) .. ARGV[2]
    local bytes = redis.call('HINCRBY', s, 'bytes', #text + 48)
    local o = ARGV[1] .. 'o:' .. key
    if bytes > tonumber(ARGV[3]) then
      redis.call('DEL', s, o)
      redis.call('SET', ARGV[1] .. 't:' .. key, 'overflow', 'PX', ARGV[4])
      redis.call('SREM', KEYS[1], key)
    else
      if redis.call('RPUSH', o, tostring(seq) .. '\\t' .. text) == 1 then redis.call('PEXPIRE', o, redis.call('PTTL', s)) end
      redis.call('HSET', s, 'g', g)
    end
  else
    redis.call('SREM', KEYS[1], key)
  end
end
return g
`;

/** The scripts, defined once and run by their SHA (EVALSHA), on the client and in pipelines. */
interface Scripts {
  tjstpClaim(...args: string[]): Promise<unknown>;
  tjstpPark(...args: string[]): Promise<unknown>;
  tjstpEnd(...args: string[]): Promise<unknown>;
  tjstpTransfer(...args: string[]): Promise<unknown>;
  tjstpAppend(...args: string[]): Promise<unknown>;
}

const SCRIPTS: [keyof Scripts, number, string][] = [
  ['tjstpClaim', 2, CLAIM],
  ['tjstpPark', 0, PARK],
  ['tjstpEnd', 3, END],
  ['tjstpTransfer', 1, TRANSFER],
  ['tjstpAppend', 2, APPEND],
];

interface Pending {
  resolve(reply: HandoverReply): void;
  timer: ReturnType<typeof setTimeout>;
}

export class RedisSessionStore implements SessionStore {
  readonly node = randomBytes(8).toString('hex');
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #tombstoneTtl: number;
  readonly #handoverTimeout: number;
  readonly #maxBufferedBytes: number;
  readonly #pending = new Map<string, Pending>();
  #handlers: StoreHandlers | undefined;
  #alive: ReturnType<typeof setInterval> | undefined;

  constructor(options: RedisSessionStoreOptions = {}) {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    // Commands wait while Redis is away, up to a point: a restore then fails and is retried, never served from nothing.
    const settings = { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: true };
    this.#redis = new Redis(url, settings);
    this.#subscriber = new Redis(url, settings);
    this.#prefix = options.prefix ?? 'tjstp:';
    this.#tombstoneTtl = options.tombstoneTtl ?? 60 * 60 * 1000;
    this.#handoverTimeout = options.handoverTimeout ?? 3000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    // ioredis reports connection trouble as 'error' events; a command's own failure rejects it.
    this.#redis.on('error', () => {});
    this.#subscriber.on('error', () => {});
    for (const [name, numberOfKeys, lua] of SCRIPTS) this.#redis.defineCommand(name, { numberOfKeys, lua });
  }

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }

  async open(handlers: StoreHandlers): Promise<void> {
    this.#handlers = handlers;
    await Promise.all([this.#redis.connect(), this.#subscriber.connect()]);
    const p = this.#prefix;
    this.#subscriber.on('message', (channel: string, text: string) => this.#onMessage(channel, text));
    await this.#subscriber.subscribe(`${p}bus`, `${p}h:${this.node}`, `${p}r:${this.node}`);
    await this.#beat();
    this.#alive = setInterval(() => {
      this.#beat().catch(() => {});
    }, NODE_REFRESH);
    this.#alive.unref();
  }

  async create(key: string, secret: string | undefined): Promise<number> {
    // The key is new (a fresh random id's hash): nothing to clear first.
    await this.#redis.hset(`${this.#prefix}s:${key}`, 'owner', this.node, 'fence', '1', 'secret', secret ?? '');
    return 1;
  }

  async claim(key: string): Promise<Claim> {
    const p = this.#prefix;
    const reply = await this.#scripts.tjstpClaim(`${p}s:${key}`, `${p}t:${key}`, this.node, `${p}n:`, p, String(this.#tombstoneTtl), key) as unknown[];
    const kind = String(reply[0]);
    if (kind === 'gone') return { kind, reason: isSessionLossReason(reply[1]) ? reply[1] : 'not_found' };
    if (kind === 'owned') return { kind, node: String(reply[1]), secret: reply[2] === '' ? undefined : String(reply[2]) };
    const meta = JSON.parse(String(reply[1])) as Omit<ServerSessionRecord, 'peer'> & { peer: { received: number; acked: number } };
    const outbox = (reply[4] as string[]).map((entry): [number, string] => {
      const tab = entry.indexOf('\t');
      return [Number(entry.slice(0, tab)), entry.slice(tab + 1)];
    });
    const record: ServerSessionRecord = { ...meta, peer: { ...meta.peer, lastSeq: Number(reply[2]), outbox }, bus: Number(reply[5]) };
    return { kind: 'claimed', saved: { key, record }, fence: Number(reply[3]) };
  }

  requestHandover(node: string, request: Omit<HandoverRequest, 'to'>): Promise<HandoverReply> {
    const id = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`node ${node} did not hand the session over within ${this.#handoverTimeout} ms`));
      }, this.#handoverTimeout);
      this.#pending.set(id, { resolve, timer });
      this.#redis.publish(`${this.#prefix}h:${node}`, JSON.stringify({ id, from: this.node, wait: this.#handoverTimeout, ...request })).catch((error: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error as Error);
      });
    });
  }

  async park(sessions: readonly { saved: SavedSession; fence: number }[], holdTime: number): Promise<number> {
    const p = this.#prefix;
    const pipeline = this.#redis.pipeline();
    const head = [p, this.node, String(holdTime), String(this.#tombstoneTtl)];
    let batch: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (batch.length > 0) (pipeline as unknown as Scripts).tjstpPark(...head, ...batch);
      batch = [];
      size = 0;
    };
    for (const { saved, fence } of sessions) {
      const { key, record } = saved;
      const { outbox, lastSeq, ...counters } = record.peer;
      const meta = JSON.stringify({ ...record, peer: counters });
      let bytes = 0;
      for (const [, text] of outbox) bytes += Buffer.byteLength(text) + 48;
      const sets = [`${p}pa:${record.app}`, ...record.channels.map((channel) => `${p}pc:${record.app}\0${channel}`)];
      batch.push(key, String(fence), meta, String(lastSeq), String(bytes), String(record.bus ?? 0),
        String(sets.length), ...sets, String(outbox.length), ...outbox.map(([seq, text]) => `${seq}\t${text}`));
      size += meta.length + bytes;
      // Batches of a few hundred sessions or a megabyte: few calls, none that holds Redis long.
      if (batch.length > 4000 || size > 1_000_000) flush();
    }
    flush();
    let parked = 0;
    for (const [error, count] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      parked += Number(count);
    }
    return parked;
  }

  async transfer(key: string, fence: number, to: string): Promise<number | undefined> {
    const fenced = Number(await this.#scripts.tjstpTransfer(`${this.#prefix}s:${key}`, this.node, String(fence), to));
    return fenced > 0 ? fenced : undefined;
  }

  async end(key: string, reason: SessionLossReasonValue): Promise<void> {
    const p = this.#prefix;
    await this.#scripts.tjstpEnd(`${p}s:${key}`, `${p}o:${key}`, `${p}t:${key}`, this.node, reason, String(this.#tombstoneTtl));
  }

  async publish(event: SharedEvent): Promise<void> {
    const p = this.#prefix;
    const set = event.channel === undefined ? `${p}pa:${event.app}` : `${p}pc:${event.app}\0${event.channel}`;
    const { body } = prepareEvent(event.iface, event.name, event.args);
    await this.#scripts.tjstpAppend(set, `${p}g`, p, body, String(this.#maxBufferedBytes), String(this.#tombstoneTtl),
      `${p}bus`, JSON.stringify({ event }));
  }

  async close(): Promise<void> {
    clearInterval(this.#alive);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.resolve('gone');
      this.#pending.delete(id);
    }
    await this.#redis.del(`${this.#prefix}n:${this.node}`).catch(() => 0);
    this.#subscriber.disconnect();
    await this.#redis.quit().catch(() => 'OK');
  }

  #beat(): Promise<unknown> {
    return this.#redis.set(`${this.#prefix}n:${this.node}`, '1', 'PX', NODE_TTL);
  }

  #onMessage(channel: string, text: string): void {
    const p = this.#prefix;
    let message: Record<string, unknown>;
    // Bus messages come numbered: `<n>\n<json>`.
    const bus = channel === `${p}bus`;
    try {
      message = JSON.parse(bus ? text.slice(text.indexOf('\n') + 1) : text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (bus) {
      // This node's own events too: every node delivers them in the store's one order.
      this.#handlers?.event(message.event as SharedEvent, Number.parseInt(text, 10));
    } else if (channel === `${p}r:${this.node}`) {
      const pending = this.#pending.get(String(message.id));
      if (!pending) return;
      this.#pending.delete(String(message.id));
      clearTimeout(pending.timer);
      pending.resolve(message.reply as HandoverReply);
    } else if (channel === `${p}h:${this.node}` && this.#handlers) {
      const request: HandoverRequest = {
        key: String(message.key),
        nonce: typeof message.nonce === 'number' ? message.nonce : undefined,
        to: String(message.from),
        ...(typeof message.wait === 'number' && { wait: message.wait }),
      };
      this.#handlers.handover(request).catch((): HandoverReply => 'gone').then((reply) =>
        this.#redis.publish(`${p}r:${String(message.from)}`, JSON.stringify({ id: message.id, reply })),
      ).catch(() => {});
    }
  }
}
