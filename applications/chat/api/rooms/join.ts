import type { MethodContext, MethodDefinition } from 'tjstp';
import { recent } from '../../lib/history';
import { displayName, roomSchema } from '../../lib/names';

/** Joins a room: from now on its messages reach this session, across reconnects. */
export default {
  description: 'Join a room; returns its recent messages',
  parameters: [roomSchema],
  returns: { type: 'array' },
  handler: (context: MethodContext, room: string) => {
    context.join(room);
    context.publish(room, 'rooms', 'joined', { room, who: displayName(context) });
    return recent(room);
  },
} satisfies MethodDefinition;
