/**
 * Waits for `work`, but rejects once `ms` have passed: a hang fails with a clear message instead of
 * running into Jest's timeout. Bounds are generous on purpose; they catch hangs, not slowness.
 */
export async function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it holds or `ms` pass; resolves to whether it held. Errors count as "not yet". */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 15_000, everyMs = 150): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
