/**
 * Raw TCP connections from another loopback address (Linux routes all of
 * 127.0.0.0/8 to lo), so per-address limits and address binding can be
 * tried from "other machines" on one host.
 */
import net from 'node:net';
import { RawTcp } from './raw';

export const connectFrom = (localAddress: string, port: number): Promise<RawTcp> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new RawTcp(socket));
    });
  });
