/**
 * mulberry32: a small seedable PRNG, for choices that must replay from a
 * printed seed (where the chaos proxy kills connections, what a soak
 * attacker does next). Not for anything secret.
 */
export const prng = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/**
 * A generator for one test, seeded from CHAOS_SEED or the clock; the seed
 * is printed in the test's diagnostics, so a failing run can be replayed.
 */
export const seeded = (t: { diagnostic(message: string): void }): (() => number) => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1e9);
  t.diagnostic(`seed ${seed}`);
  return prng(seed);
};
