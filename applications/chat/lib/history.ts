/**
 * Recent messages per room, shared by the chat's methods. It lives as long
 * as this load of the application: a hot reload starts it afresh.
 */
export interface ChatMessage {
  id: number;
  room: string;
  from: string;
  text: string;
  at: string;
}

const rooms = new Map<string, ChatMessage[]>();
let lastId = 0;

export const record = (room: string, from: string, text: string, limit: number): ChatMessage => {
  const message = { id: ++lastId, room, from, text, at: new Date().toISOString() };
  const list = rooms.get(room) ?? [];
  list.push(message);
  if (list.length > limit) list.splice(0, list.length - limit);
  rooms.set(room, list);
  return message;
};

export const recent = (room: string): ChatMessage[] => [...(rooms.get(room) ?? [])];
