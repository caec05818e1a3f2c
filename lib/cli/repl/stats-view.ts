/**
 * What `$tjstp.stats()` answered, as `tjstp stats` and the REPL's `.stats`
 * show it: one table a person reads at a glance. Both fetch it the same
 * way, and say the same when the application does not allow it.
 */
import type { Client } from '../../client/client.js';
import { ErrorCode, RemoteError } from '../../protocol/errors.js';
import type { AdminStats } from '../../server/admin.js';
import { formatBytes, paint, type PrintOptions } from './printer.js';

/** Asks the server; a refusal becomes a RemoteError saying how to allow it. */
export const fetchStats = async (client: Client): Promise<AdminStats> => {
  try {
    return (await client.call('$tjstp', 'stats')) as AdminStats;
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    if (error.code === ErrorCode.METHOD_NOT_FOUND) {
      throw new RemoteError(error.code, 'the application does not allow stats: its application.json needs "admin": { "users": ["…"], "stats": true } (or the server is older than tjstp stats)');
    }
    if (error.code === ErrorCode.AUTH_FAILED) {
      throw new RemoteError(error.code, 'stats are for the application\'s admin users: log in as one listed in "admin": { "users": […] } (--login USER)');
    }
    throw error;
  }
};

const count = (value: unknown): string => (typeof value === 'number' ? String(value) : '?');

/** The table: sessions, connections, memory, refusals, evictions, then the application's versions. */
export const formatStats = (stats: AdminStats, print: PrintOptions): string => {
  const label = (text: string): string => paint(print, 'dim', text.padEnd(16));
  const memory = stats.memory ?? { used: 0, limit: 0 };
  const share = memory.limit > 0 ? ` (${((memory.used / memory.limit) * 100).toFixed(1)} %)` : '';
  const refusals = Object.entries(stats.refusals ?? {});
  const lines = [
    `${label('sessions')}${count(stats.sessions)}, of them ${count(stats.held)} held for a restore`,
    `${label('connections')}${count(stats.connections)}`,
    `${label('memory')}${formatBytes(memory.used)} of ${formatBytes(memory.limit)}${share}`,
    `${label('refusals')}${refusals.length === 0 ? 'none' : refusals.map(([limit, times]) => `${limit} ${times}`).join(', ')}`,
    `${label('evicted')}${count(stats.evicted)}`,
    `${label('deferred calls')}${count(stats.deferredCalls)}`,
  ];
  const versions = Object.entries(stats.application?.versions ?? {});
  const name = stats.application?.name ?? '?';
  if (versions.length === 0) lines.push(`${label(name)}no sessions`);
  for (const [version, counted] of versions) lines.push(`${label(`${name}@${version}`)}${counted.sessions} session(s), ${counted.held} held`);
  if (typeof stats.at === 'string') lines.push(paint(print, 'dim', `as of ${stats.at}`));
  return lines.join('\n');
};
