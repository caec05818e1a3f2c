/**
 * The key per-address limits count under. A transport reports its peer as
 * `host:port` (`[v6]:port`); limits care about the host. An IPv4 address
 * is its own key. An IPv6 address counts by its /64 prefix: one
 * subscriber usually holds a whole /64, so counting single addresses
 * would give an attacker 2^64 fresh budgets. IPv4-mapped IPv6 addresses
 * count as the IPv4 address. Local peers (IPC, Unix sockets) and
 * addresses that cannot be read get no key: they are not limited.
 */
import net from 'node:net';

/** Expands an IPv6 address into its eight 16-bit groups (no zone id). */
const ipv6Groups = (address: string): string[] | undefined => {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) takes two groups.
  const last = right.length > 0 ? right : left;
  if (last.length > 0 && (last[last.length - 1] as string).includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = (last.pop() as string).split('.').map(Number);
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
};

/** The host part of `host:port` or `[host]:port`, if it is an IP address. */
export const hostOf = (remoteAddress: string): string | undefined => {
  const host = remoteAddress.startsWith('[')
    ? remoteAddress.slice(1, remoteAddress.indexOf(']'))
    : remoteAddress.slice(0, remoteAddress.lastIndexOf(':'));
  const bare = host.split('%')[0] as string;
  return net.isIP(bare) === 0 ? undefined : bare;
};

/**
 * The key a peer is counted under (see the file comment), or undefined for
 * a peer that is not limited.
 */
export const addressKey = (remoteAddress: string): string | undefined => {
  const host = hostOf(remoteAddress);
  if (host === undefined) return undefined;
  if (net.isIPv4(host)) return host;
  const groups = ipv6Groups(host.toLowerCase());
  if (groups === undefined) return host;
  const numbers = groups.map((group) => Number.parseInt(group, 16));
  // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket.
  if (numbers.slice(0, 5).every((n) => n === 0) && numbers[5] === 0xffff) {
    const [high = 0, low = 0] = numbers.slice(6);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return `${numbers.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`;
};
