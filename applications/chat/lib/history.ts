/**
 * Recent messages per room, shared by the chat's methods. It lives as long
 * as this load of the application (a hot reload starts it afresh), so it
 * is bounded three ways: messages per room, rooms with a history (the least
 * recently active room is forgotten first) and characters across all rooms.
 */
import type { ChatLimits } from './limits';

/** A message as methods return it (the `rooms.message` event's schema in application.json says the same). */
export const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    room: { type: 'string' },
    from: { type: 'string' },
    text: { type: 'string' },
    at: { type: 'string' },
  },
  required: ['id', 'room', 'from', 'text', 'at'],
  additionalProperties: false,
} as const;

export interface ChatMessage {
  id: number;
  room: string;
  from: string;
  text: string;
  at: string;
}

export type HistoryLimits = Pick<ChatLimits, 'historySize' | 'historyRooms' | 'historyChars'>;

interface RoomHistory {
  messages: ChatMessage[];
}

/** By last message: the least recently active room comes first. */
const rooms = new Map<string, RoomHistory>();
let totalChars = 0;
let lastId = 0;

const charsOf = (message: ChatMessage): number => message.text.length + message.from.length + message.room.length;

const dropOldest = (room: string, history: RoomHistory): void => {
  const message = history.messages.shift();
  if (message) totalChars -= charsOf(message);
  if (history.messages.length === 0) rooms.delete(room);
};

const forget = (room: string, history: RoomHistory): void => {
  for (const message of history.messages) totalChars -= charsOf(message);
  rooms.delete(room);
};

/** Keeps a message in its room's history, within the limits; returns it. */
export const record = (room: string, from: string, text: string, limits: HistoryLimits): ChatMessage => {
  const message = { id: ++lastId, room, from, text, at: new Date().toISOString() };
  const history = rooms.get(room) ?? { messages: [] };
  // Re-inserted: this room is now the most recently active.
  rooms.delete(room);
  rooms.set(room, history);
  history.messages.push(message);
  totalChars += charsOf(message);
  while (history.messages.length > limits.historySize) dropOldest(room, history);
  for (const [name, other] of rooms) {
    if (other === history || (rooms.size <= limits.historyRooms && totalChars <= limits.historyChars)) break;
    forget(name, other);
  }
  // Only this room is left and it is still too large: its oldest go.
  while (totalChars > limits.historyChars && rooms.has(room)) dropOldest(room, history);
  return message;
};

/** A room's history, oldest first. */
export const recent = (room: string): ChatMessage[] => [...(rooms.get(room)?.messages ?? [])];

/** How much the history holds. */
export const historyStats = (): { rooms: number; messages: number; chars: number } => {
  let messages = 0;
  for (const history of rooms.values()) messages += history.messages.length;
  return { rooms: rooms.size, messages, chars: totalChars };
};
