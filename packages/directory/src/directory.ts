/**
 * The directory service: every read and change of domains, mailboxes, aliases and admins goes through
 * `Directory`, whatever interface asks (CLI, control socket, admin UI, API, mail servers).
 *
 * This class is a facade: each method hands over to the service file of its concern (service/*.ts, see
 * README.md). Every change goes through the write seam (service/writer.ts): `mutate(actor, change)`,
 * where the change checks the actor's scope first (scope.ts), then writes in one serialised transaction
 * with its audit row, and mailboxes whose sessions may have ended are announced.
 */
import { primeDummyHash } from './credentials.js';
import { type DirectoryDb, Engine } from './engine.js';
import { DirectoryError } from './errors.js';
import type { MailboxRow, RecipientLookup } from './lookup.js';
import { resolveLogin } from './lookup.js';
import { loadMigrations, migrate, pendingMigrations } from './migrate.js';
import type { AddressKind } from './schema.js';
import type { Actor } from './scope.js';
import * as adminScope from './service/admin-scope.js';
import * as admins from './service/admins.js';
import * as aliasImport from './service/alias-import.js';
import * as aliases from './service/aliases.js';
import * as audit from './service/audit.js';
import { DirectoryContext, type DirectoryOptions } from './service/context.js';
import * as dkim from './service/dkim.js';
import * as domains from './service/domains.js';
import * as gateway from './service/gateway.js';
import * as listMemberImport from './service/list-member-import.js';
import * as lists from './service/lists.js';
import * as lockouts from './service/lockouts.js';
import * as login from './service/login.js';
import * as lookups from './service/lookups.js';
import type * as mailboxEdit from './service/mailbox-edit.js';
import * as mailboxImport from './service/mailbox-import.js';
import * as mailboxes from './service/mailboxes.js';
import { type AccountChange, AccountEvents } from './service/notifications.js';
import * as passwords from './service/passwords.js';
import * as preferences from './service/preferences.js';
import * as quotas from './service/quotas.js';
import * as regions from './service/regions.js';
import * as revocations from './service/revocations.js';
import { type DirectoryWriter, LocalWriter } from './service/writer.js';

export type { AdminView } from './service/admins.js';
export type { AliasView } from './service/aliases.js';
export type { AuthEventAction } from './service/audit.js';
export { type DirectoryOptions, POSTMASTER } from './service/context.js';
export type { DkimKeyView, DkimSigningKey } from './service/dkim.js';
export type { ListSenders, ListView } from './service/lists.js';
export { AdminAccessDenied, type AdminClient } from './service/login.js';
export type { CreatedMailbox, MailboxView, NewMailbox } from './service/mailboxes.js';
export type { AccountChange } from './service/notifications.js';

/** The appliance itself, as the actor of the changes it makes on its own (its region at start). */
const APPLIANCE: Actor = { kind: 'system', name: 'appliance', from: 'local' };

export class Directory {
  readonly #ctx: DirectoryContext;
  readonly #events = new AccountEvents();
  readonly #recipients: lookups.RecipientCache;
  /** The write seam: every change goes through it (service/writer.ts). */
  readonly #writer: DirectoryWriter;

  private constructor(
    readonly engine: Engine,
    readonly options: DirectoryOptions,
  ) {
    this.#ctx = new DirectoryContext(engine.db, options);
    this.#recipients = new lookups.RecipientCache(this.#ctx);
    const local = new LocalWriter(engine, this.#ctx, {
      events: this.#events,
      onWrite: () => this.#recipients.invalidate(),
    });
    this.#writer = options.writer ? options.writer(local) : local;
  }

  /** Opens (and, as the writer, migrates) the directory database. */
  static async open(options: DirectoryOptions): Promise<Directory> {
    const engine = await Engine.open({
      path: options.path,
      ...(options.syncUrl ? { syncUrl: options.syncUrl } : {}),
      ...(options.sync ? { sync: options.sync } : {}),
    });
    try {
      const now = options.now ?? (() => new Date());
      let role: 'writer' | 'replica';
      if (typeof options.role === 'function') {
        if (engine.replicated) await engine.pull().catch(() => false);
        role = options.role(await regions.recordedWriter({ db: engine.db }));
      } else role = options.role ?? 'writer';
      const expected = loadMigrations(options.migrationsDir);
      if (role === 'writer') {
        await migrate(engine, now, expected);
      } else {
        let pending = await pendingMigrations(engine, expected);
        // A replica never migrates itself: it waits for the writer's migrations to reach it.
        for (const wait = options.waitForSchema; wait && pending.length > 0; ) {
          wait.onWait(pending);
          await new Promise((r) => setTimeout(r, wait.intervalMs ?? 1000));
          if (engine.replicated) await engine.pull().catch(() => false);
          pending = await pendingMigrations(engine, expected);
        }
        if (pending.length > 0) {
          throw new DirectoryError(
            'unavailable',
            `directory schema is behind this code (missing ${pending.join(', ')}): waiting for the writer`,
          );
        }
      }
      const dir = new Directory(engine, options);
      // The throwaway hash unknown names are checked against (verifyWithoutAccount), computed now.
      primeDummyHash().catch(() => undefined);
      if (role === 'writer') {
        const input = {
          name: options.regionId,
          ...(options.regionTitle !== undefined ? { title: options.regionTitle } : {}),
        };
        await dir.#writer.mutate(APPLIANCE, { kind: 'region.ensure', input });
      }
      return dir;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  get db(): DirectoryDb {
    return this.engine.db;
  }

  // ---------------------------------------------------------------- change notifications, caches

  /** Forgets cached lookups (after a replication pull brought changes). */
  invalidateCaches(): void {
    this.#recipients.invalidate();
  }

  /**
   * Calls `listener` after each local change that may end mailboxes' sessions (a password set, a
   * mailbox removed, purged or given an expiry, a domain removed); the mail servers close the sessions
   * that are no longer valid. Changes replicated from other regions are not announced: the servers'
   * periodic check finds those. Returns the unsubscribe function.
   */
  onAccountChange(listener: (change: AccountChange) => void): () => void {
    return this.#events.subscribe(listener);
  }

  // ---------------------------------------------------------------- regions (service/regions.ts)

  listRegions(): Promise<Array<{ name: string; title: string }>> {
    return regions.listRegions(this.#ctx);
  }

  addRegion(actor: Actor, name: string, title?: string): Promise<void> {
    return this.#writer.mutate(actor, {
      kind: 'region.add',
      input: { name, ...(title !== undefined ? { title } : {}) },
    });
  }

  /** Revokes the certificates `region` holds now (operators; decision 0013); not the writer region. */
  revokeRegion(
    actor: Actor,
    region: string,
    initial: string,
    reason?: string,
  ): Promise<revocations.Revocation> {
    return this.#writer.mutate(actor, {
      kind: 'federation.revoke',
      input: { region, initial, ...(reason !== undefined ? { reason } : {}) },
    });
  }

  /** Every revoked region certificate record, oldest first (decision 0013). */
  listRevocations(): Promise<revocations.Revocation[]> {
    return revocations.listRevocations(this.#ctx);
  }

  /** The writer region the replica names (decision 0011); null: never moved (`federation.writer`). */
  recordedWriter(): Promise<string | null> {
    return regions.recordedWriter(this.#ctx);
  }

  /** Moves the writer role to `region` (operators; applied and pushed by the current writer). */
  setWriterRegion(
    actor: Actor,
    region: string,
    initial: string,
  ): Promise<{ region: string; previous: string }> {
    return this.#writer.mutate(actor, { kind: 'federation.writer', input: { region, initial } });
  }

  // ---------------------------------------------------------------- domains (service/domains.ts)

  addDomain(
    actor: Actor,
    domain: string,
    opts: { region?: string } = {},
  ): Promise<{ name: string; region: string }> {
    return this.#writer.mutate(actor, { kind: 'domain.add', input: { ...opts, domain } });
  }

  listDomains(
    actor: Actor,
  ): Promise<Array<{ name: string; region: string; mailboxes: number; createdAt: string }>> {
    return domains.listDomains(this.#ctx, actor);
  }

  /**
   * Removes a domain with everything in it. A domain that still has mailboxes other than postmaster@
   * needs `force`. Returns the mailbox ids whose mail the mail store must purge.
   */
  removeDomain(
    actor: Actor,
    domain: string,
    opts: { force?: boolean } = {},
  ): Promise<{ mailboxIds: string[] }> {
    return this.#writer.mutate(actor, { kind: 'domain.remove', input: { ...opts, domain } });
  }

  // ---------------------------------------------------------------- DKIM keys (service/dkim.ts)

  /** A domain's DKIM keys with their DNS records (its admins and operators). */
  listDkimKeys(actor: Actor, domain: string): Promise<dkim.DkimKeyView[]> {
    return dkim.listDkimKeys(this.#ctx, actor, domain);
  }

  /** The keys that sign the domain's mail now, private keys opened (the mail side; no actor). */
  dkimSigningKeys(domain: string): Promise<dkim.DkimSigningKey[]> {
    return dkim.signingKeys(this.#ctx, domain);
  }

  /** New keys for a domain (`prepare`: published first, activated by the next rotate); operators. */
  rotateDkimKeys(actor: Actor, domain: string, opts: { prepare?: boolean } = {}) {
    return this.#writer.mutate(actor, { kind: 'dkim.rotate', input: { ...opts, domain } });
  }

  /** Retires a previous key (its DNS record may be removed); operators. */
  retireDkimKey(actor: Actor, domain: string, selector: string) {
    return this.#writer.mutate(actor, { kind: 'dkim.retire', input: { domain, selector } });
  }

  /** Keys for every domain (or the one named) that has none: the backfill for older domains; operators. */
  ensureDkimKeys(actor: Actor, domain?: string) {
    return this.#writer.mutate(actor, { kind: 'dkim.ensure', input: domain ? { domain } : {} });
  }

  // ---------------------------------------------------------------- mailboxes (service/mailboxes.ts)

  addMailbox(actor: Actor, input: mailboxes.NewMailbox): Promise<mailboxes.CreatedMailbox> {
    return this.#writer.mutate(actor, { kind: 'mailbox.add', input });
  }

  listMailboxes(
    actor: Actor,
    domain: string,
    opts: mailboxes.MailboxListOptions = {},
  ): Promise<{ total: number; mailboxes: mailboxes.MailboxView[] }> {
    return mailboxes.listMailboxes(this.#ctx, actor, domain, opts);
  }

  /**
   * Renames a person (or sets a new official local part): the old official address stays as a legacy
   * alias, and the new name's generated aliases are added (with the usual ambiguity rules).
   */
  renameMailbox(
    actor: Actor,
    address: string,
    change: { firstName?: string; lastName?: string; localPart?: string },
  ): Promise<mailboxes.CreatedMailbox & { legacy: string }> {
    return this.#writer.mutate(actor, { kind: 'mailbox.rename', input: { ...change, address } });
  }

  // ---------------------------------------------------------------- expiry, removal, purge (service/expiry.ts)

  setExpiry(actor: Actor, address: string, expiresOn: string | null): Promise<{ expiresOn: string | null }> {
    return this.#writer.mutate(actor, { kind: 'mailbox.expire', input: { address, expiresOn } });
  }

  /**
   * Removes a mailbox: disabled at once (mail to it gets 5.2.1), its aliases let go of it, its mail kept
   * for the retention period. `purge` deletes it now. Returns the mailbox id the mail store must purge
   * (when purged) and when it will be purged otherwise.
   */
  removeMailbox(
    actor: Actor,
    address: string,
    opts: { purge?: boolean } = {},
  ): Promise<{ address: string; mailboxId: string; purged: boolean; purgeAfter: string | null }> {
    return this.#writer.mutate(actor, { kind: 'mailbox.remove', input: { ...opts, address } });
  }

  /** The purge job: deletes removed mailboxes whose retention has passed; returns their ids. */
  purgeExpiredRemovals(actor: Actor): Promise<Array<{ address: string; mailboxId: string }>> {
    return this.#writer.mutate(actor, { kind: 'mailbox.purge-due', input: {} });
  }

  // ---------------------------------------------------------------- aliases, forwards, list aliases

  /** A manual alias (several targets: mail goes to all of them). Adding to an existing manual alias extends it. */
  addAlias(actor: Actor, alias: string, targets: string[]): Promise<aliases.AliasView> {
    return this.#writer.mutate(actor, { kind: 'alias.add', input: { address: alias, targets } });
  }

  /** An official address whose mailbox is elsewhere (step-by-step migration). */
  addForward(actor: Actor, address: string, remote: string): Promise<aliases.AliasView> {
    return this.#writer.mutate(actor, { kind: 'forward.add', input: { address, remote } });
  }

  /** A distribution-list alias: mail goes to the list server's address. */
  addListAlias(actor: Actor, address: string, listServer: string): Promise<aliases.AliasView> {
    return this.#writer.mutate(actor, { kind: 'list.add', input: { address, listServer } });
  }

  /** Removes an alias, forward or list alias (any kind but an official address). */
  removeAlias(actor: Actor, address: string): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'alias.remove', input: { address } });
  }

  /** Every address of a domain except official ones; ambiguous generated aliases carry their candidates. */
  listAliases(
    actor: Actor,
    domain: string,
    opts: { kinds?: AddressKind[] } = {},
  ): Promise<aliases.AliasView[]> {
    return aliases.listAliases(this.#ctx, actor, domain, opts);
  }

  // ---------------------------------------------------------------- built-in lists (service/lists.ts)

  /** A built-in list: owner (a mailbox), who may post, moderated or not, first members. */
  createList(actor: Actor, input: Parameters<typeof lists.createList>[2]): Promise<lists.ListView> {
    return this.#writer.mutate(actor, { kind: 'mailing-list.create', input });
  }

  /** Adds and/or removes members of a built-in list. */
  changeListMembers(
    actor: Actor,
    address: string,
    change: { add?: string[]; remove?: string[] },
  ): Promise<lists.ListView & { added: string[]; removed: string[] }> {
    return this.#writer.mutate(actor, { kind: 'mailing-list.members', input: { ...change, address } });
  }

  /** A new owner, sender rule or moderation of a built-in list (what is not given is kept). */
  setListSettings(
    actor: Actor,
    address: string,
    settings: { owner?: string; senders?: string; allowedSenders?: string[]; moderated?: boolean },
  ): Promise<lists.ListView> {
    return this.#writer.mutate(actor, { kind: 'mailing-list.settings', input: { ...settings, address } });
  }

  removeList(actor: Actor, address: string): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'mailing-list.remove', input: { address } });
  }

  getList(actor: Actor, address: string): Promise<lists.ListView> {
    return lists.getList(this.#ctx, actor, address);
  }

  listLists(actor: Actor, domain: string): Promise<lists.ListView[]> {
    return lists.listLists(this.#ctx, actor, domain);
  }

  /** The lists a mailbox owns, by its official address (self-service: the address of the session). */
  listsOwnedBy(owner: string): Promise<lists.ListView[]> {
    return lists.listsOwnedBy(this.#ctx, owner);
  }

  /** A built-in list by address, no actor (the MTA's expansion); null when the address is not one. */
  lookupList(address: string): Promise<lists.ListView | null> {
    return lists.lookupList(this.#ctx, address);
  }

  // ---------------------------------------------------------------- admins (service/admins.ts)

  hasOperator(): Promise<boolean> {
    return admins.hasOperator(this.#ctx);
  }

  addAdmin(
    actor: Actor,
    input: { username: string; role: 'operator' | 'domain-admin'; domains?: string[]; password: string },
  ): Promise<{ username: string; role: string; domains: string[] }> {
    return this.#writer.mutate(actor, { kind: 'admin.add', input });
  }

  listAdmins(actor: Actor): Promise<admins.AdminView[]> {
    return admins.listAdmins(this.#ctx, actor);
  }

  /** One administrator (operators only). */
  getAdmin(actor: Actor, username: string): Promise<admins.AdminView> {
    return admins.getAdmin(this.#ctx, actor, username);
  }

  /**
   * Sets an admin's access restrictions (operators only, also for their own account): the networks they
   * may connect from (`[]` or null: any) and the SHA-256 fingerprint of the TLS client certificate they
   * must present (null: none). A field left undefined is kept.
   */
  setAdminAccess(
    actor: Actor,
    username: string,
    input: { allowedNetworks?: readonly string[] | null; certFingerprint?: string | null },
  ): Promise<admins.AdminView> {
    return this.#writer.mutate(actor, { kind: 'admin.access', input: { ...input, username } });
  }

  removeAdmin(actor: Actor, username: string): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'admin.remove', input: { username } });
  }

  /** An admin's role, without any access check (for the audit log); null when there is no such admin. */
  adminRole(username: string): Promise<'operator' | 'domain-admin' | null> {
    return admins.adminRole(this.#ctx, username);
  }

  // ---------------------------------------------------------------- credentials (service/passwords.ts)

  setPassword(actor: Actor, address: string, password: string): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'mailbox.passwd', input: { address, password } });
  }

  setAdminPassword(actor: Actor, username: string, password: string): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'admin.passwd', input: { username, password } });
  }

  /** The admin's TOTP secret (base32), opened with the federation key; null when they have none. */
  adminTotpSecret(username: string): Promise<string | null> {
    return passwords.adminTotpSecret(this.#ctx, username);
  }

  /**
   * Sets (or with null, removes) an admin's TOTP secret, sealed with the federation key so it works in
   * every region. An admin may change their own; operators anyone's (a reset after a lost phone).
   */
  setAdminTotpSecret(actor: Actor, username: string, secret: string | null): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'admin.totp', input: { username, secret } });
  }

  // ---------------------------------------------------------------- issue 19 (quotas, edit, import)

  /** Sets (null: removes) a mailbox's quota within its domain's limits (service/quotas.ts). */
  setQuota(actor: Actor, address: string, quotaBytes: number | null) {
    return this.#writer.mutate(actor, { kind: 'mailbox.quota', input: { address, quotaBytes } });
  }

  /** The operator's limits of a domain (null: none). */
  setDomainLimits(
    actor: Actor,
    domain: string,
    limits: { maxMailboxes: number | null; maxQuotaBytes: number | null },
  ) {
    return this.#writer.mutate(actor, { kind: 'domain.limits', input: { ...limits, domain } });
  }

  /** A domain's limits and what it uses of them. */
  domainLimits(actor: Actor, domain: string): Promise<quotas.DomainLimits> {
    return quotas.domainLimits(this.#ctx, actor, domain);
  }

  /** Group, contact, flag, type of a mailbox (service/mailbox-edit.ts). */
  updateMailbox(actor: Actor, input: mailboxEdit.MailboxUpdate) {
    return this.#writer.mutate(actor, { kind: 'mailbox.update', input });
  }

  /** The domains of a domain administrator, replaced; `withSubdomains` brings their sub-domains (operators). */
  setAdminDomains(actor: Actor, username: string, domains: string[], withSubdomains: string[] = []) {
    return this.#writer.mutate(actor, {
      kind: 'admin.domains',
      input: { username, domains, withSubdomains },
    });
  }

  /** The domains whose sub-domains an admin also manages (the admins page). */
  adminSubdomainRoots(username: string): Promise<string[]> {
    return adminScope.subdomainRootsOf(this.#ctx, username);
  }

  /** A removed mailbox active again, while its mail is kept. */
  restoreMailbox(actor: Actor, address: string) {
    return this.#writer.mutate(actor, { kind: 'mailbox.restore', input: { address } });
  }

  /** The preview of a bulk import: every row checked, nothing written (service/mailbox-import.ts). */
  planImport(
    actor: Actor,
    domain: string,
    rows: mailboxImport.ImportRow[],
  ): Promise<mailboxImport.ImportPlan> {
    return mailboxImport.planImport(this.#ctx, actor, domain, rows);
  }

  /** A bulk import: every row in one transaction, or nothing. */
  importMailboxes(
    actor: Actor,
    domain: string,
    rows: mailboxImport.ImportRow[],
    opts: { passwords?: boolean } = {},
  ) {
    return this.#writer.mutate(actor, { kind: 'mailbox.import', input: { domain, rows, ...opts } });
  }

  /** The preview of an alias import (service/alias-import.ts): every row checked, nothing written. */
  planAliasImport(
    actor: Actor,
    domain: string,
    rows: aliasImport.AliasImportRow[],
  ): Promise<aliasImport.AliasImportPlan> {
    return aliasImport.planAliasImport(this.#ctx, actor, domain, rows);
  }

  /** An alias import: every row in one transaction, or nothing. */
  importAliases(actor: Actor, domain: string, rows: aliasImport.AliasImportRow[]) {
    return this.#writer.mutate(actor, { kind: 'alias.import', input: { domain, rows } });
  }

  /** The preview of a list member import (service/list-member-import.ts). */
  planMemberImport(
    actor: Actor,
    list: string,
    rows: listMemberImport.MemberImportRow[],
  ): Promise<listMemberImport.MemberImportPlan> {
    return listMemberImport.planMemberImport(this.#ctx, actor, list, rows);
  }

  /** A list member import: every new member in one transaction, or nothing. */
  importListMembers(actor: Actor, list: string, rows: listMemberImport.MemberImportRow[]) {
    return this.#writer.mutate(actor, { kind: 'mailing-list.import', input: { address: list, rows } });
  }

  // ---------------------------------------------------------------- preferences (service/preferences.ts)

  /** Sets (null: clears) the web interface language of a mailbox user. */
  setMailboxLanguage(
    actor: Actor,
    address: string,
    language: string | null,
  ): Promise<{ language: string | null }> {
    return this.#writer.mutate(actor, { kind: 'mailbox.language', input: { address, language } });
  }

  /** Sets (null: clears) an admin's web interface language: their own, or anyone's by an operator. */
  setAdminLanguage(
    actor: Actor,
    username: string,
    language: string | null,
  ): Promise<{ language: string | null }> {
    return this.#writer.mutate(actor, { kind: 'admin.language', input: { username, language } });
  }

  /** An admin's stored interface language (no access check); null when unset or no such admin. */
  adminLanguage(username: string): Promise<string | null> {
    return preferences.adminLanguage(this.#ctx, username);
  }

  // ---------------------------------------------------------------- login (service/login.ts)

  /**
   * The actor for a signed-in admin, with the scope read from the directory now (revocation is
   * immediate); null when there is no such admin. Throws `forbidden` (`AdminAccessDenied`) when the
   * admin's access restrictions refuse this client; null too for a session or token issued
   * (`client.issuedAt`) before the admin's password was last changed.
   */
  actorForAdmin(username: string, from: string, client: login.AdminClient = {}): Promise<Actor | null> {
    return login.actorForAdmin(this.#ctx, username, from, client);
  }

  /** Checks an admin's password, then their access restrictions; returns the actor on success. */
  authenticateAdmin(
    username: string,
    password: string,
    from: string,
    client: login.AdminClient = {},
  ): Promise<Actor | null> {
    return login.authenticateAdmin(this.#ctx, username, password, from, client);
  }

  /**
   * Checks a mailbox login: the mailbox must exist, be active, not expired, and have a password.
   * Returns the official address on success.
   */
  authenticateMailbox(
    login_: string,
    password: string,
  ): Promise<{ address: string; mailboxId: string } | null> {
    return login.authenticateMailbox(this.#ctx, login_, password);
  }

  /** Whether a mailbox's session that began at `issuedAt` (ms since the epoch) is still good. */
  mailboxSessionValid(mb: MailboxRow, issuedAt: number): boolean {
    return login.mailboxSessionValid(this.#ctx, mb, issuedAt);
  }

  /** Removed and expired mailboxes cannot log in. */
  mayLogIn(mb: MailboxRow): boolean {
    return login.mayLogIn(this.#ctx, mb);
  }

  /** The CRAM-MD5 secret of a mailbox, or null when CRAM-MD5 is off or the mailbox may not log in. */
  cramSecretOf(mb: MailboxRow): string | null {
    return login.cramSecretOf(this.#ctx, mb);
  }

  // ---------------------------------------------------------------- mail-side reads (service/lookups.ts)

  /** What mail to `address` becomes (SMTP RCPT policy reads this). */
  lookupRecipient(address: string): Promise<RecipientLookup> {
    return this.#recipients.lookup(address);
  }

  /** The mailbox a login name names (official address, unambiguous alias, or username@domain). */
  resolveLogin(login: string): Promise<MailboxRow | null> {
    return resolveLogin(this.db, login);
  }

  /**
   * The addresses a mailbox may send as (SMTP submission): its official address, its legacy addresses and
   * the generated aliases that lead to it alone (an ambiguous alias belongs to nobody).
   */
  sendersOf(mailboxId: string): Promise<string[]> {
    return lookups.sendersOf(this.#ctx, mailboxId);
  }

  /** A mailbox by its id (the mail store's user id), or null. */
  mailboxById(id: string): Promise<MailboxRow | null> {
    return lookups.mailboxById(this.#ctx, id);
  }

  // ---------------------------------------------------------------- attachment gateway (service/gateway.ts)

  /** Registers a mailbox address, a domain, or (with `sender`) a sender for `domain`'s mailboxes. */
  registerGateway(actor: Actor, input: gateway.GatewayTargetInput) {
    return this.#writer.mutate(actor, { kind: 'gateway.register', input });
  }

  unregisterGateway(actor: Actor, input: gateway.GatewayTargetInput): Promise<void> {
    return this.#writer.mutate(actor, { kind: 'gateway.unregister', input });
  }

  /** A domain's gateway rules (threshold, media types, expiry, login); fields left out keep their value. */
  setGatewaySettings(
    actor: Actor,
    domain: string,
    rules: Partial<gateway.GatewayRules>,
  ): Promise<gateway.GatewayRules> {
    return this.#writer.mutate(actor, { kind: 'gateway.settings', input: { ...rules, domain } });
  }

  /** The gateway rules and registrations of the domains the actor may see (or of one domain). */
  listGateway(actor: Actor, domain?: string): Promise<gateway.GatewayDomainView[]> {
    return gateway.listGateway(this.#ctx, actor, domain);
  }

  /** What the gateway does for each mailbox id at delivery (null: nothing). */
  gatewayPolicies(mailboxIds: readonly string[]): Promise<Map<string, gateway.GatewayPolicy | null>> {
    return gateway.gatewayPolicies(this.#ctx, mailboxIds);
  }
  // ---------------------------------------------------------------- audit (service/audit.ts)

  /**
   * Records a sign-in event in the audit log (no scope check: it is not a change): `auth.signin`,
   * `auth.signin-failed`, `auth.signout`, `auth.lockout`, `auth.token` (an API token issued). `actor` is
   * who it was (`domain-admin:alice`, `mailbox:rose@...`), or `anonymous` when no account was proven;
   * `target` the account name typed. Never pass a password or code in `details`.
   */
  recordAuthEvent(event: audit.AuthEvent): Promise<void> {
    return this.#writer.recordAuthEvent(event);
  }

  /**
   * When a login lockout of `account` (`mailbox:<id>`, `admin:<username>`) recorded by another region
   * ends (ms since the epoch), or null when no other region locked it (service/lockouts.ts).
   */
  lockedUntil(account: string): Promise<number | null> {
    return lockouts.lockedUntil(this.#ctx, account);
  }

  listAudit(actor: Actor, opts: audit.AuditQuery = {}): Promise<audit.AuditRow[]> {
    return audit.listAudit(this.#ctx, actor, opts);
  }

  /** The audit log filtered and paged, with the number of matching rows (the audit pages). */
  queryAudit(actor: Actor, opts: audit.AuditQuery = {}): Promise<{ total: number; rows: audit.AuditRow[] }> {
    return audit.queryAudit(this.#ctx, actor, opts);
  }
}
