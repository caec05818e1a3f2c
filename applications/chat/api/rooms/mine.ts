import type { MethodContext } from 'tjstp';

/** The rooms this session is in. */
export default (context: MethodContext) => context.channels;
