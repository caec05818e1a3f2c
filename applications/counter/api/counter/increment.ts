import type { MethodContext, MethodDefinition } from 'tjstp';

export default {
  description: 'Add step (default 1) to this session\'s counter; returns the new value',
  parameters: [{ title: 'step', type: 'integer', minimum: 1, maximum: 1000, default: 1 }],
  returns: { type: 'integer' },
  handler: (context: MethodContext, step: number) => {
    const value = ((context.state.counter as number | undefined) ?? 0) + step;
    context.state.counter = value;
    return value;
  },
} satisfies MethodDefinition;
