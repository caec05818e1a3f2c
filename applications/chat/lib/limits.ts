/**
 * The chat's limits, from `config` in application.json. The chat keeps
 * history for people who are not there, so all of it is bounded: one
 * anonymous session could otherwise fill rooms until the server died.
 */
export interface ChatLimits {
  /** Messages kept per room. */
  historySize: number;
  /** Rooms that keep a history; the least recently active is forgotten first. */
  historyRooms: number;
  /** Characters (of each message's text, sender and room) kept across all rooms. */
  historyChars: number;
  /** Rooms one session may be in at once; joining one more is refused. */
  roomsPerSession: number;
}

export const defaultLimits: Readonly<ChatLimits> = {
  historySize: 50,
  historyRooms: 1000,
  historyChars: 1_000_000,
  roomsPerSession: 100,
};

/** Read once per config object: a reload brings a new one. */
const read = new WeakMap<object, ChatLimits>();

/**
 * The limits in `config`, defaults for what it leaves out.
 * @throws TypeError when one is not a positive integer (the call fails with 16 and the log says why)
 */
export const chatLimits = (config: Readonly<Record<string, unknown>>): ChatLimits => {
  let limits = read.get(config);
  if (limits) return limits;
  limits = { ...defaultLimits };
  for (const key of Object.keys(defaultLimits) as (keyof ChatLimits)[]) {
    const value = config[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`chat config.${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    limits[key] = value;
  }
  read.set(config, limits);
  return limits;
};
