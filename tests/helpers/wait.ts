/** Polls `condition` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = "condition",
) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}
