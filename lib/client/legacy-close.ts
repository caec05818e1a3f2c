/**
 * Letting go of a connection to a reference server before restoring. The
 * reference restores a session on the old connection's object; when the old
 * socket's close reaches it after the restore, that close marks the
 * restored connection closed, and from then on it runs calls but drops
 * every reply and event (its bug Q13). So the client ends the old
 * connection's stream and restores only once it is gone: that completes
 * after the server has ended its side, which it does on reading our end.
 * (Over WebSocket, after a close frame the reference ends its side at once,
 * before it has read ours: hence `Transport.end`, which sends none.)
 */
import type { Transport } from '../transport/transport.js';

/** How long to wait for the old connection's close before restoring anyway. */
export const LEGACY_CLOSE_TIMEOUT = 1000;

/**
 * Ends `transport` (unbound by the caller) and calls `then` once, when it
 * is gone or after `timeout` ms, whichever comes first. What still arrives
 * on it is ignored.
 */
export const closeThen = (transport: Transport, timeout: number, then: () => void): void => {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    transport.unbind();
    transport.destroy();
    then();
  };
  const timer = setTimeout(finish, timeout);
  transport.bind({ message: () => {}, close: finish });
  if (transport.end) transport.end();
  else transport.close();
};
