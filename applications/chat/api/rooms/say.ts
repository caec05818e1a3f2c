import { RemoteError, type MethodContext, type MethodDefinition } from 'tjstp';
import { record } from '../../lib/history';
import { chatLimits } from '../../lib/limits';
import { displayName, roomSchema } from '../../lib/names';

/** Sends a message to everyone in the room, including members who are reconnecting. */
export default {
  description: 'Say something in a room you joined; returns the message id',
  parameters: [roomSchema, { title: 'text', type: 'string', minLength: 1, maxLength: 2000 }],
  returns: { type: 'integer' },
  handler: (context: MethodContext, room: string, text: string) => {
    if (!context.channels.includes(room)) throw new RemoteError(1001, `Join ${room} first`);
    const message = record(room, displayName(context), text, chatLimits(context.config));
    context.publish(room, 'rooms', 'message', message);
    return message.id;
  },
} satisfies MethodDefinition;
