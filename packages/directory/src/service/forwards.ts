/**
 * Addresses whose mail leaves the appliance: forwards (an official address whose mailbox is elsewhere,
 * for a step-by-step migration) and distribution-list aliases (mail goes to the list server's address).
 * Their target must not be a local mailbox: that is what an alias is for. Removing them: `alias.remove`
 * (aliases.ts).
 */
import { invalid } from '../errors.js';
import { type AliasView, addAddressWithTargets, type ResolvedTarget } from './aliases.js';
import type { DirectoryContext } from './context.js';
import type { ChangeContext } from './writer.js';

function remoteOnly(kind: 'forward' | 'list') {
  return (target: ResolvedTarget) => {
    if (target.mailboxId !== null) {
      throw invalid(`${target.address} is a local mailbox: use an alias, not a ${kind}`);
    }
  };
}

/** `forward.add`: an official address whose mailbox is elsewhere (step-by-step migration). */
export function addForward(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; remote: string },
): Promise<AliasView> {
  return addAddressWithTargets(
    ctx,
    change,
    'forward',
    { address: input.address, targets: [input.remote] },
    remoteOnly('forward'),
  );
}

/** `list.add`: a distribution-list alias: mail goes to the list server's address. */
export function addListAlias(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; listServer: string },
): Promise<AliasView> {
  return addAddressWithTargets(
    ctx,
    change,
    'list',
    { address: input.address, targets: [input.listServer] },
    remoteOnly('list'),
  );
}
