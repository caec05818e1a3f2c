import type { MethodContext } from 'tjstp';

export default (context: MethodContext) => {
  context.state.counter = 0;
  return 0;
};
