import type { MethodContext, MethodDefinition } from 'tjstp';

/** Chooses the name others see; kept in the session across reconnects. */
export default {
  description: 'Choose the name others see',
  parameters: [{ title: 'name', type: 'string', minLength: 1, maxLength: 40 }],
  handler: (context: MethodContext, name: string) => {
    context.state.name = name;
  },
} satisfies MethodDefinition;
