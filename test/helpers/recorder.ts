/** Transport test helpers: a handler that records what it is told, and polling. */
import type { TransportHandler } from '../../lib/transport/transport';

export class Recorder implements TransportHandler {
  messages: string[] = [];
  closes: (Error | undefined)[] = [];
  events: string[] = [];
  #waiters: (() => void)[] = [];

  message(text: string): void {
    this.messages.push(text);
    this.events.push(`message:${text}`);
    this.#wake();
  }

  close(error?: Error): void {
    this.closes.push(error);
    this.events.push('close');
    this.#wake();
  }

  /** Resolves when `check` holds; fails after `ms`. */
  async until(check: () => boolean, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('Timed out waiting');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const poll = async (check: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting');
    await delay(5);
  }
};
