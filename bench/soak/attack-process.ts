/**
 * The attackers of the memory attack, in their own process
 * (`dist/bench/soak/attack-process.js`, driven over IPC by
 * `memory-attack.ts`), so the orchestrator can lower its CPU priority: on a
 * real deployment the attackers are other machines, and what they spend is
 * their own CPU, not the server's.
 */
import { serveRequests } from '../common';
import { Attacker, type AttackerConfig, type AttackerStats } from './attacker';

let attackers: Attacker[] = [];

serveRequests(
  {
    /** Runs every attacker until its `until`; resolves with each one's counts. */
    run: async ({ configs }) => {
      attackers = (configs as AttackerConfig[]).map((config) => new Attacker(config));
      return Promise.all(attackers.map((attacker) => attacker.run()));
    },
    progress: (): AttackerStats[] => attackers.map((attacker) => attacker.stats),
  },
  { pid: process.pid },
);
