// Retries work that failed because the store was unreachable, with exponential backoff, so a run that
// ends during an outage is recorded when the store is back.
import { errorText, type Logger } from './logger';

export interface RetryOptions {
  what: string;
  log: Logger;
  /** Give up after this long (default ten minutes). */
  maxTotalMs?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + (options.maxTotalMs ?? 600_000);
  let delay = options.firstDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() + delay > deadline) throw error;
      if (attempt === 1 || attempt % 10 === 0) options.log.warn(`${options.what} failed: retrying until the store answers`, { attempt, error: errorText(error) });
      await new Promise((resolveDelay) => setTimeout(resolveDelay, delay));
      delay = Math.min(options.maxDelayMs ?? 10_000, delay * 2);
    }
  }
}
