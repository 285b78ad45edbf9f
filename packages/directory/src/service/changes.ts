/**
 * Every kind of directory change, and the service function that applies it. This is the complete list of
 * what can modify the directory: `DirectoryWriter.mutate` (writer.ts) takes `{ kind, input }` with a kind
 * from here; inputs are plain JSON (strings, numbers, booleans, arrays, null), so a change can be sent to
 * the writer region as it is. Inputs may carry a password: never log them.
 */
import { setAdminDomains } from './admin-scope.js';
import { addAdmin, removeAdmin, setAdminAccess } from './admins.js';
import { importAliases } from './alias-import.js';
import { addAlias, removeAlias } from './aliases.js';
import type { DirectoryContext } from './context.js';
import { ensureDkimKeys, retireDkimKey, rotateDkimKeys } from './dkim.js';
import { addDomain, removeDomain } from './domains.js';
import { purgeExpiredRemovals, removeMailbox, setExpiry } from './expiry.js';
import { addForward, addListAlias } from './forwards.js';
import { registerGateway, setGatewaySettings, unregisterGateway } from './gateway.js';
import { importListMembers } from './list-member-import.js';
import { changeMembers, createList, removeList, setListSettings } from './lists.js';
import { restoreMailbox, updateMailbox } from './mailbox-edit.js';
import { importMailboxes } from './mailbox-import.js';
import { addMailbox, renameMailbox } from './mailboxes.js';
import { setAdminPassword, setAdminTotpSecret, setPassword } from './passwords.js';
import { setAdminLanguage, setMailboxLanguage } from './preferences.js';
import { setDomainLimits, setQuota } from './quotas.js';
import { addRegion, ensureRegion, setWriterRegion } from './regions.js';
import { revokeRegion } from './revocations.js';
import type { ChangeContext } from './writer.js';

export const CHANGES = {
  'region.add': addRegion,
  'region.ensure': ensureRegion,
  'federation.writer': setWriterRegion,
  'federation.revoke': revokeRegion,
  'domain.add': addDomain,
  'domain.remove': removeDomain,
  'dkim.rotate': rotateDkimKeys,
  'dkim.retire': retireDkimKey,
  'dkim.ensure': ensureDkimKeys,
  'mailbox.add': addMailbox,
  'mailbox.rename': renameMailbox,
  'mailbox.passwd': setPassword,
  'mailbox.expire': setExpiry,
  'mailbox.remove': removeMailbox,
  'mailbox.purge-due': purgeExpiredRemovals,
  'alias.add': addAlias,
  'alias.remove': removeAlias,
  'forward.add': addForward,
  'list.add': addListAlias,
  'mailing-list.create': createList,
  'mailing-list.members': changeMembers,
  'mailing-list.settings': setListSettings,
  'mailing-list.remove': removeList,
  'admin.add': addAdmin,
  'admin.access': setAdminAccess,
  'admin.passwd': setAdminPassword,
  'admin.totp': setAdminTotpSecret,
  'admin.remove': removeAdmin,
  'gateway.register': registerGateway,
  'gateway.unregister': unregisterGateway,
  'gateway.settings': setGatewaySettings,
  'admin.language': setAdminLanguage,
  'mailbox.language': setMailboxLanguage,
  'mailbox.quota': setQuota,
  'mailbox.update': updateMailbox,
  'mailbox.restore': restoreMailbox,
  'mailbox.import': importMailboxes,
  'domain.limits': setDomainLimits,
  'admin.domains': setAdminDomains,
  'alias.import': importAliases,
  'mailing-list.import': importListMembers,
} satisfies Record<string, (ctx: DirectoryContext, change: ChangeContext, input: never) => Promise<unknown>>;

export type ChangeKind = keyof typeof CHANGES;
export type ChangeInput<K extends ChangeKind> = Parameters<(typeof CHANGES)[K]>[2];
export type ChangeResult<K extends ChangeKind> = Awaited<ReturnType<(typeof CHANGES)[K]>>;
