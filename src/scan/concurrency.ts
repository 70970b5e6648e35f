/**
 * Small concurrency tools for the scanner: a counting semaphore, a bounded parallel map and a
 * per-key mutex.
 */

/** Lets at most `size` tasks run at once; the others wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {
    if (!(size >= 1)) throw new Error(`semaphore size must be at least 1, got ${size}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * `fn` over `items` with at most `limit` calls in flight, results in input order. `limit` workers
 * walk the list, so only a few promises exist at a time however long it is.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Runs tasks with the same key one after another (e.g. writes to one repository). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(task);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}

/** A {@link Semaphore} per key (e.g. per git host), created on first use and dropped when idle. */
export class KeyedSemaphore {
  private readonly semaphores = new Map<string, { semaphore: Semaphore; users: number }>();

  constructor(private readonly size: number) {
    if (!(size >= 1)) throw new Error(`semaphore size must be at least 1, got ${size}`);
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let entry = this.semaphores.get(key);
    if (!entry) {
      entry = { semaphore: new Semaphore(this.size), users: 0 };
      this.semaphores.set(key, entry);
    }
    entry.users++;
    try {
      return await entry.semaphore.run(task);
    } finally {
      if (--entry.users === 0) this.semaphores.delete(key);
    }
  }
}
