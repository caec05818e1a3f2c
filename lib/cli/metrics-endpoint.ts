/**
 * `tjstp serve --metrics PORT`: the server's Prometheus metrics on an HTTP
 * server of their own (`GET /metrics`, anything else 404), on the host the
 * listeners use. Apart from the listeners, so that a scrape never competes
 * with clients for a port a firewall may open to the world.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverMetrics, type ServerMetrics } from '../server/metrics.js';
import type { Server } from '../server/server.js';

export interface MetricsEndpoint {
  metrics: ServerMetrics;
  /** `http://host:port/metrics` */
  url: string;
  /** Stops answering and stops counting. */
  close(): Promise<void>;
}

export const startMetricsEndpoint = async (server: Server, host: string, port: number): Promise<MetricsEndpoint> => {
  const metrics = await serverMetrics(server);
  const endpoint = http.createServer(metrics.handle);
  // A scraper keeps its connection open between scrapes: it must not hold up a stop.
  endpoint.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      endpoint.once('error', reject);
      endpoint.listen(port, host, () => {
        endpoint.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    metrics.close();
    throw error;
  }
  const { address, port: bound } = endpoint.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    metrics,
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        endpoint.close(() => resolve());
        endpoint.closeAllConnections();
        metrics.close();
      }),
  };
};
