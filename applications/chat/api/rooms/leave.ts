import type { MethodContext, MethodDefinition } from 'tjstp';
import { displayName, roomSchema } from '../../lib/names';

export default {
  description: 'Leave a room',
  parameters: [roomSchema],
  handler: (context: MethodContext, room: string) => {
    context.publish(room, 'rooms', 'left', { room, who: displayName(context) });
    context.leave(room);
  },
} satisfies MethodDefinition;
