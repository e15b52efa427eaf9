const FIRST_MS = 500;
const LONGEST_MS = 15_000;

/** How long to wait before reconnect attempt `attempt` (0 = the first):
 * doubling from half a second up to 15 s, each spread by up to a quarter so
 * that many browsers do not all knock at once after Stocky restarts. */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(LONGEST_MS, FIRST_MS * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.75 + random * 0.25));
}
