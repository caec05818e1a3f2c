import type { MethodContext } from 'tjstp';
import { displayName } from '../../lib/names';

/** A client says it is typing in a room: tell the room. */
export default (context: MethodContext, room: unknown) => {
  if (typeof room === 'string' && context.channels.includes(room)) {
    context.publish(room, 'rooms', 'typing', { room, who: displayName(context) });
  }
};
