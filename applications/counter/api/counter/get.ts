import type { MethodContext, MethodDefinition } from 'tjstp';

export default {
  description: 'This session\'s counter',
  parameters: [],
  returns: { type: 'integer' },
  handler: (context: MethodContext) => (context.state.counter as number | undefined) ?? 0,
} satisfies MethodDefinition;
