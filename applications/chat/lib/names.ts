import type { MethodContext } from 'tjstp';

/** The name others see: the chosen one, the login, or the session's label. */
export const displayName = (context: MethodContext): string =>
  (context.state.name as string | undefined) ?? context.user ?? context.sessionLabel;

export const roomSchema = { title: 'room', type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\w-]+$' } as const;
