/** Secret configuration values (the gateway's and the scorer's): they print as "[redacted]". */
import { inspect } from "node:util";

/** A secret configuration value: `reveal()` it where it is used; it never prints. */
export class Secret<T> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "[redacted]";
  }
}
