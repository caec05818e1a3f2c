import type { MethodContext, MethodDefinition } from 'tjstp';

export default {
  description: 'Set this session\'s counter back to 0; returns 0',
  parameters: [],
  returns: { type: 'integer' },
  handler: (context: MethodContext) => {
    context.state.counter = 0;
    return 0;
  },
} satisfies MethodDefinition;
