/**
 * Whether a restore hello may have the session it names. In order:
 *
 * 1. The address has restore attempts left (bogus ids count too): the
 *    server checks that first ({@link admitRestoreAttempt}), before it
 *    asks a shared store for a session this process does not hold.
 * 2. The id names a live session of this application.
 * 3. A bound session (a tjstp client opened it) needs a valid proof of its
 *    key, and a nonce above any used before: a replayed or late hello is
 *    refused as `stale`. An id-only session is restored by its id alone,
 *    unless the server turned that mode off.
 * 4. With `bindAddress`, the hello comes from the address that opened it.
 * 5. The counters can be reconciled (`handshake.ts`).
 * 6. An id-only restore does not take over a connection that restored the
 *    session moments ago: with nothing to tell the racers apart, the
 *    first one keeps it and the other gets error 31 (`restoreRace`).
 *
 * A refusal touches nothing: the session stays as it was for its owner.
 * Failed proofs and unknown ids get the same answer (`not_found`), so a
 * guesser learns nothing. Ids are looked up by their SHA-256 hash, so the
 * lookup's timing says nothing about the id; proofs are compared in
 * constant time.
 */
import { LimitName, SessionLossReason, limitExceeded } from '../protocol/errors.js';
import { readRestoreRequest, type RestoreRequest } from '../protocol/restore.js';
import { addressKey } from './address.js';
import type { Application } from './application.js';
import { proofIsValid } from './binding.js';
import { reconcile, sessionLost, sessionNotFound } from './handshake.js';
import type { SessionRegistry } from './registry.js';
import type { ServerSession } from './session.js';

export interface RestoreOptions {
  /**
   * Accept the id-only restore forms for sessions opened without a key
   * (reference clients and other legacy clients). Default true.
   */
  idOnlyRestore: boolean;
  /** Only restore from the address (IPv6: /64) that opened the session. Default false. */
  bindAddress: boolean;
  /** ms during which an id-only restore cannot take a session over from the connection that just restored it. */
  raceWindow: number;
}

export const defaultRestoreOptions: Readonly<RestoreOptions> = {
  idOnlyRestore: true,
  bindAddress: false,
  raceWindow: 1000,
};

export interface AdmittedRestore {
  session: ServerSession;
  request: RestoreRequest;
  /** What the client received, as the server resumes from it. */
  received: number;
}

/** Why a restore was refused, for the server's log (never sent). */
export type RestoreRefusal = 'proof' | 'id-only' | 'address';

/** Step 1: the address may try a restore now; throws error 31 when not. */
export const admitRestoreAttempt = (registry: SessionRegistry, remoteAddress: string): void => {
  if (!registry.admission.admitRestore(addressKey(remoteAddress))) throw limitExceeded(LimitName.RESTORE_RATE);
};

/**
 * Decides a restore; throws the RemoteError to answer with. `refused` hears
 * of refusals that look like someone else's id (for the log).
 */
export const admitRestore = (
  registry: SessionRegistry,
  options: RestoreOptions,
  remoteAddress: string,
  app: Application,
  credentials: unknown,
  refused: (why: RestoreRefusal, session: ServerSession) => void,
): AdmittedRestore => {
  const origin = addressKey(remoteAddress);
  const request = readRestoreRequest(credentials);
  if (request === undefined) throw sessionNotFound();
  const found = registry.find(request.id);
  if (found === undefined) throw sessionLost(registry.lossReason(request.id) ?? SessionLossReason.NOT_FOUND);
  const { session, key } = found;
  if (session.app.name !== app.name) throw sessionNotFound();
  if (session.bound) {
    const secret = session.secretFor(key);
    if (secret === undefined || !proofIsValid(secret, request)) {
      refused('proof', session);
      throw sessionNotFound();
    }
    if ((request.nonce as number) <= session.nonce) throw sessionLost(SessionLossReason.STALE);
  } else if (request.proof !== undefined || !options.idOnlyRestore) {
    refused('id-only', session);
    throw sessionNotFound();
  }
  if (options.bindAddress && origin !== session.origin) {
    refused('address', session);
    throw sessionNotFound();
  }
  const reconciled = reconcile(session.peer.state, request);
  if (reconciled.refused !== undefined) throw sessionLost(reconciled.refused);
  if (!session.bound && session.connection !== null && Date.now() - session.attachedAt < options.raceWindow) {
    registry.admission.count(LimitName.RESTORE_RACE);
    throw limitExceeded(LimitName.RESTORE_RACE);
  }
  return { session, request, received: reconciled.received };
};
