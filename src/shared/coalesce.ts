// Single flight for reloads and recomputations: calls during a run share it, and any of them asks for one
// more run after it, so the last change is always seen without piling up work.

/** Wraps `work` so that concurrent calls make at most one run in flight plus one after it. */
export function coalesce(work: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await work();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };
}
