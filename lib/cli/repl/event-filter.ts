/**
 * Which incoming events are shown: all or none, with per-interface
 * exceptions. `.events off` then `.events on chat` shows only chat;
 * `.events on` then `.events off calc` shows all but calc.
 */
export class EventFilter {
  #shown: boolean;
  /** Interfaces that do the opposite of `#shown`. */
  readonly #exceptions = new Set<string>();

  constructor(shown: boolean) {
    this.#shown = shown;
  }

  shows(iface: string): boolean {
    return this.#exceptions.has(iface) ? !this.#shown : this.#shown;
  }

  /** Shows or hides one interface's events, or everyone's (clearing the exceptions). */
  set(shown: boolean, iface?: string): void {
    if (iface === undefined) {
      this.#shown = shown;
      this.#exceptions.clear();
    } else if (shown === this.#shown) {
      this.#exceptions.delete(iface);
    } else {
      this.#exceptions.add(iface);
    }
  }

  /** `all`, `none`, `all but calc`, `only chat, room`. */
  describe(): string {
    const list = [...this.#exceptions].sort().join(', ');
    if (list === '') return this.#shown ? 'all' : 'none';
    return this.#shown ? `all but ${list}` : `only ${list}`;
  }
}
