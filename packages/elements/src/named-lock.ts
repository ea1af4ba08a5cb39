/**
 * A lock waited for at most this long; past it the work runs anyway. The work under a lock is one relay call, so a
 * longer wait means a stuck tab or request, and a second session is better than a terminal that never starts.
 */
export const NAMED_LOCK_WAIT_MS = 10_000;

/** Locks held in this page, for browsers without the Web Locks API. */
const pageLocks = new Map<string, Promise<void>>();

/**
 * Runs `work` while holding the lock `name`: across the page's elements and the browser's tabs (Web Locks API), or
 * within the page where that API is missing. Two terminals with the same `persist-key` thus create one session
 * between them instead of one each.
 */
export async function withNamedLock<T>(name: string, work: () => Promise<T>, waitMs = NAMED_LOCK_WAIT_MS): Promise<T> {
  const locks = globalThis.navigator?.locks;
  if (locks) {
    let granted = false;
    try {
      return await locks.request(name, { signal: AbortSignal.timeout(waitMs) }, () => {
        granted = true;
        return work();
      });
    } catch (error) {
      if (granted) throw error;
      return work();
    }
  }
  const previous = pageLocks.get(name) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  pageLocks.set(name, chained);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([previous, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  try {
    return await work();
  } finally {
    release();
    if (pageLocks.get(name) === chained) pageLocks.delete(name);
  }
}
