import { RemoteError, type MethodContext, type MethodDefinition } from 'tjstp';
import { recent, messageSchema } from '../../lib/history';
import { chatLimits } from '../../lib/limits';
import { displayName, roomSchema } from '../../lib/names';

/** Joins a room: from now on its messages reach this session, across reconnects. */
export default {
  description: 'Join a room; returns its recent messages',
  parameters: [roomSchema],
  returns: { type: 'array', items: messageSchema },
  handler: (context: MethodContext, room: string) => {
    const { roomsPerSession } = chatLimits(context.config);
    const joined = context.channels;
    if (!joined.includes(room) && joined.length >= roomsPerSession) {
      throw new RemoteError(1002, `Too many rooms: at most ${roomsPerSession} at once; leave one first`);
    }
    context.join(room);
    context.publish(room, 'rooms', 'joined', { room, who: displayName(context) });
    return recent(room);
  },
} satisfies MethodDefinition;
