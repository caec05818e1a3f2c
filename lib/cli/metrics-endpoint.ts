/**
 * `tjstp serve --metrics PORT`: the server's Prometheus metrics on an HTTP
 * server of their own (`GET /metrics`, anything else 404), on the host the
 * listeners use. Apart from the listeners, so that a scrape never competes
 * with clients for a port a firewall may open to the world.
 *
 * With `--workers N` the primary serves them, summed over the workers
 * (prom-client's AggregatorRegistry, over the cluster's IPC channel); each
 * worker counts its own and answers the primary when it asks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadPromClient, metricsHandler, serverMetrics } from '../server/metrics.js';
import type { Server } from '../server/server.js';
import { isWorker } from './workers.js';

export interface MetricsEndpoint {
  /** `http://host:port/metrics`; undefined in a worker, whose primary serves them. */
  url: string | undefined;
  /** Stops answering and stops counting. */
  close(): Promise<void>;
}

const listen = async (handler: http.RequestListener, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> => {
  const endpoint = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    endpoint.once('error', reject);
    endpoint.listen(port, host, () => {
      endpoint.off('error', reject);
      resolve();
    });
  });
  const { address, port: bound } = endpoint.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        endpoint.close(() => resolve());
        // A scraper keeps its connection open between scrapes: it must not hold up a stop.
        endpoint.closeAllConnections();
      }),
  };
};

/** Whether this worker answers the primary already. */
let answering = false;

/**
 * In a worker: answers the primary's requests for metrics from now on,
 * with nothing until its server counts. Call it first thing: the primary
 * asks every worker it forked, and one that never answers (still loading
 * its applications) would fail the whole scrape after 5 s.
 */
export const answerPrimary = async (): Promise<void> => {
  const prom = await loadPromClient();
  // Constructing one installs the worker's answer (once per process).
  new prom.AggregatorRegistry();
  if (!answering) prom.AggregatorRegistry.setRegistries([]);
  answering = true;
};

/** Counts `server`'s metrics and serves them (or, in a worker, hands them to the primary). */
export const startMetricsEndpoint = async (server: Server, host: string, port: number): Promise<MetricsEndpoint> => {
  const metrics = await serverMetrics(server);
  if (isWorker()) {
    await answerPrimary();
    (await loadPromClient()).AggregatorRegistry.setRegistries([metrics.registry]);
    return { url: undefined, close: async () => metrics.close() };
  }
  try {
    const endpoint = await listen(metrics.handle, host, port);
    return {
      url: endpoint.url,
      close: async () => {
        await endpoint.close();
        metrics.close();
      },
    };
  } catch (error) {
    metrics.close();
    throw error;
  }
};

/** In the primary of `--workers`: `GET /metrics` answers the workers' metrics, summed. */
export const startClusterMetricsEndpoint = async (host: string, port: number): Promise<{ url: string; close(): Promise<void> }> => {
  const prom = await loadPromClient();
  const registry = new prom.AggregatorRegistry();
  return listen(metricsHandler(() => registry.clusterMetrics(), registry.contentType), host, port);
};
