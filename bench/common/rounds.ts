/** How the measured runs are scheduled. */
import { sleep } from './proc.js';

/**
 * Rounds 1..`rounds`; in each, every system in turn after a `settleMs` pause. The systems alternate, so
 * a burst of unrelated work on the machine does not land on one system's runs only.
 */
export async function alternate<S>(
  systems: readonly S[],
  rounds: number,
  settleMs: number,
  each: (system: S, round: number) => Promise<void>,
): Promise<void> {
  for (let i = 1; i <= rounds; i++) {
    for (const system of systems) {
      await sleep(settleMs);
      await each(system, i);
    }
  }
}
