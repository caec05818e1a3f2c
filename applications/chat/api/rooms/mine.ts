import type { MethodContext, MethodDefinition } from 'tjstp';

export default {
  description: 'The rooms this session is in',
  parameters: [],
  returns: { type: 'array', items: { type: 'string' } },
  handler: (context: MethodContext) => [...context.channels],
} satisfies MethodDefinition;
