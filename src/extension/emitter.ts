// A minimal event emitter shaped like vscode.Event, for the modules that stay free of the vscode import.
export interface Subscription {
  dispose(): void;
}

export type Listener<T> = (value: T) => unknown;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  /** Subscribe; compatible with vscode.Event<T> (thisArgs and a disposables array are honoured). */
  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Subscription[]): Subscription => {
    const bound: Listener<T> = thisArgs === undefined ? listener : listener.bind(thisArgs);
    this.listeners.add(bound);
    const subscription = { dispose: () => this.listeners.delete(bound) };
    disposables?.push(subscription);
    return subscription;
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch {
        // A failing listener must not stop the others; each one logs its own errors.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
