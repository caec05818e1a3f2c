import type { MethodContext } from 'tjstp';

export default (context: MethodContext) => (context.state.counter as number | undefined) ?? 0;
