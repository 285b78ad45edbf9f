/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Local mailboxes of a domain:
 * GET /d/:domain/mailboxes (?q= search, ?page=), GET /d/:domain/mailboxes/new, POST /d/:domain/mailboxes,
 * GET /d/:domain/mailboxes/:address (official address and aliases), GET .../:address/setup (set-up sheet),
 * POST .../:address/remove, POST .../:address/password, POST .../:address/expiry.
 */
import {
  type Actor,
  type AliasView,
  DirectoryError,
  MAILBOX_SORTS,
  type MailboxSort,
  type MailboxView,
  parseSizeText,
  randomPassword,
} from '@delegato/directory';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate, withoutSecrets } from '../forms.js';
import { adminActor, type Ctx, scopedAddress, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { personalPasswordProblem } from '../password-rules.js';
import { csrfOf, flash, render } from '../render.js';
import { expiryForm, mailboxForm, passwordForm, removeMailboxForm } from '../schemas.js';
import { PAGE_SIZE, pageOf } from '../views/list-controls.js';
import {
  ConfirmRemovePage,
  MailboxListPage,
  type MailboxListQuery,
  MailboxPage,
  mailboxPath,
  NewMailboxPage,
} from '../views/mailboxes.js';
import { type SetupInfo, SetupSheet } from '../views/setup.js';

/** The list page's query: search, filters and order (views/mailboxes.tsx MailboxListQuery). */
function listQuery(c: Ctx): MailboxListQuery {
  const state = c.req.query('state') ?? '';
  const sort = c.req.query('sort') ?? '';
  return {
    q: (c.req.query('q') ?? '').trim().slice(0, 100),
    group: (c.req.query('group') ?? '').trim().slice(0, 64),
    state: state === 'active' || state === 'removed' || state === 'expired' ? state : '',
    sort: (MAILBOX_SORTS as readonly string[]).includes(sort) ? (sort as MailboxSort) : undefined,
    desc: c.req.query('desc') === '1',
  };
}

/** One mailbox of a domain, with the aliases that lead to it. */
export async function mailboxWithAliases(
  deps: Deps,
  actor: Actor,
  domain: string,
  address: string,
): Promise<{ mb: MailboxView; aliases: AliasView[] }> {
  const local = address.slice(0, address.lastIndexOf('@'));
  const { mailboxes } = await deps.directory.listMailboxes(actor, domain, { search: local, limit: 10_000 });
  const mb = mailboxes.find((m) => m.address === address);
  if (!mb) throw new HTTPException(404, { message: `There is no mailbox ${address}.` });
  const order: Record<AliasView['kind'], number> = {
    generated: 0,
    legacy: 1,
    manual: 2,
    forward: 3,
    list: 4,
    'mailing-list': 5,
  };
  const aliases = (await deps.directory.listAliases(actor, domain))
    .filter((a) => a.targets.includes(address))
    .sort((a, b) => order[a.kind] - order[b.kind] || b.address.length - a.address.length);
  return { mb, aliases };
}

export function setupInfo(deps: Deps, mb: { address: string; username: string }): SetupInfo {
  const domain = mb.address.slice(mb.address.lastIndexOf('@') + 1);
  return {
    address: mb.address,
    login: mb.address,
    username: mb.username,
    domain,
    names: deps.serverNames(domain),
    ports: deps.ports,
  };
}

/** Directory messages written for the CLI, said in the words of the form. */
function formWords(message: string): string {
  return message
    .replace(
      /; choose another official address with --address <local part>, e\.g\. --address (\S+)/,
      '; type another address in E-mail, for example $1',
    )
    .replace(/--address <local part>/g, 'the E-mail field');
}

export function mailboxRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/d/:domain/mailboxes', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const query = listQuery(c);
    const page = pageOf(c.req.query('page'));
    const { total, mailboxes } = await deps.directory.listMailboxes(actor, domain, {
      ...(query.q ? { search: query.q } : {}),
      ...(query.group ? { group: query.group } : {}),
      ...(query.state ? { state: query.state } : {}),
      ...(query.sort ? { sort: query.sort } : {}),
      descending: query.desc,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    const usage = new Map<string, number | null>();
    if (deps.mailboxUsage) {
      for (const mb of mailboxes)
        if (mb.state === 'active') usage.set(mb.address, await deps.mailboxUsage(mb.address));
    }
    return render(
      c,
      deps,
      { title: tr(c)('mailboxes.title', { domain }), help: 'mailboxes', domain, section: 'mailboxes' },
      <MailboxListPage
        domain={domain}
        mailboxes={mailboxes}
        total={total}
        query={query}
        page={page}
        pageSize={PAGE_SIZE}
        usage={usage}
        limits={await deps.directory.domainLimits(actor, domain)}
        domainUsed={deps.domainUsage ? await deps.domainUsage(domain) : null}
      />,
    );
  });

  const newPage = async (
    c: Ctx,
    domain: string,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) =>
    render(
      c,
      deps,
      { title: tr(c)('mailboxFlash.newTitle'), help: 'new-mailbox', domain, section: 'mailboxes' },
      <NewMailboxPage csrf={csrfOf(c)} domain={domain} {...extra} />,
      status,
    );

  app.get('/d/:domain/mailboxes/new', async (c) => {
    const actor = await adminActor(c, deps);
    return newPage(c, scopedDomain(c, actor));
  });

  app.post('/d/:domain/mailboxes', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const raw = await readForm(c);
    const values = withoutSecrets(raw);
    const form = validate(mailboxForm, raw);
    if (!form.ok) return newPage(c, domain, { values, errors: form.errors }, 400);
    const f = form.data;
    let localPart = f.email;
    if (localPart?.includes('@')) {
      const [local, other] = [
        localPart.slice(0, localPart.lastIndexOf('@')),
        localPart.slice(localPart.lastIndexOf('@') + 1),
      ];
      if (other.toLowerCase() !== domain) {
        return newPage(c, domain, { values, errors: { email: `The address must end in @${domain}` } }, 400);
      }
      localPart = local;
    }
    if (f.password !== undefined) {
      // The password policy's personal rule (issue 19): not the person's names, username or address.
      const why = personalPasswordProblem(f.password, {
        names: [f.firstName, f.lastName, f.username],
        address: localPart ? `${localPart}@${domain}` : null,
      });
      if (why) return newPage(c, domain, { values, errors: { password: why } }, 400);
    }
    let quotaBytes: number | null = null;
    try {
      quotaBytes = parseSizeText(typeof raw.quota === 'string' ? raw.quota : '');
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      return newPage(c, domain, { values, errors: { quota: err.message } }, 400);
    }
    const generated = f.password === undefined ? randomPassword() : undefined;
    try {
      const created = await deps.directory.addMailbox(actor, {
        domain,
        kind: f.kind,
        ...(f.firstName ? { firstName: f.firstName } : {}),
        ...(f.lastName ? { lastName: f.lastName } : {}),
        ...(localPart ? { localPart } : {}),
        ...(f.username ? { username: f.username } : {}),
        ...(f.group ? { group: f.group } : {}),
        ...(f.contact ? { contact: f.contact } : {}),
        ...(f.flag ? { flag: f.flag } : {}),
        ...(f.expiresOn ? { expiresOn: f.expiresOn } : {}),
        ...(quotaBytes !== null ? { quotaBytes } : {}),
        password: f.password ?? generated ?? '',
      });
      flash(c, { kind: 'ok', text: tr(c)('mailboxFlash.added', { address: created.address }) });
      if (created.aliases.some((a) => a.ambiguous)) {
        const amb = created.aliases.filter((a) => a.ambiguous).map((a) => a.address);
        flash(c, {
          kind: 'warn',
          text: tr(c)('mailboxFlash.ambiguous', { addresses: amb.join(', ') }),
        });
      }
      if (created.skippedAliases.length > 0) {
        flash(c, {
          kind: 'warn',
          text: tr(c)('mailboxFlash.skipped', { addresses: created.skippedAliases.join(', ') }),
        });
      }
      if (generated) {
        flash(c, {
          kind: 'ok',
          text: tr(c)('mailboxFlash.password'),
          secret: generated,
        });
      }
      // The set-up sheet at once (issue 19): what the admin prints for the person, password written by hand.
      return c.redirect(`${mailboxPath(domain, created.address)}/setup`, 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      const message = formWords(err.message);
      const status = directoryStatus(err) === 409 ? 409 : 400;
      if (/already exists/.test(message) && /E-mail/.test(message)) {
        return newPage(c, domain, { values, errors: { email: message } }, status);
      }
      if (/username/i.test(message))
        return newPage(c, domain, { values, errors: { username: message } }, status);
      if (/password/i.test(message))
        return newPage(c, domain, { values, errors: { password: message } }, status);
      if (/date/i.test(message))
        return newPage(c, domain, { values, errors: { expiresOn: message } }, status);
      if (/group/i.test(message)) return newPage(c, domain, { values, errors: { group: message } }, status);
      if (/quota/i.test(message)) return newPage(c, domain, { values, errors: { quota: message } }, status);
      return newPage(c, domain, { values, formError: message }, status);
    }
  });

  const detailPage = async (
    c: Ctx,
    actor: Actor,
    domain: string,
    address: string,
    extra: { errors?: FieldErrors; values?: FormValues } = {},
    status: 200 | 400 = 200,
  ) => {
    const { mb, aliases } = await mailboxWithAliases(deps, actor, domain, address);
    const usedBytes = deps.mailboxUsage && mb.state === 'active' ? await deps.mailboxUsage(mb.address) : null;
    return render(
      c,
      deps,
      { title: mb.address, help: 'mailbox', domain, section: 'mailboxes' },
      <MailboxPage
        csrf={csrfOf(c)}
        domain={domain}
        mb={mb}
        aliases={aliases}
        retentionDays={deps.directory.options.retentionDays}
        usedBytes={usedBytes}
        {...extra}
      />,
      status,
    );
  };

  app.get('/d/:domain/mailboxes/:address', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    return detailPage(c, actor, domain, scopedAddress(c, actor, domain));
  });

  app.get('/d/:domain/mailboxes/:address/setup', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const { mb } = await mailboxWithAliases(deps, actor, domain, scopedAddress(c, actor, domain));
    return render(
      c,
      deps,
      {
        title: `Set-up sheet for ${mb.address}`,
        help: 'setup-sheet',
        domain,
        section: 'mailboxes',
        printable: true,
      },
      <SetupSheet info={setupInfo(deps, mb)} />,
    );
  });

  // The confirmation step of a removal (issue 19): what will be lost, and the button that removes.
  app.get('/d/:domain/mailboxes/:address/remove', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const address = scopedAddress(c, actor, domain);
    const purge = c.req.query('purge') === 'yes';
    const { mb, aliases } = await mailboxWithAliases(deps, actor, domain, address);
    const retentionDays = deps.directory.options.retentionDays;
    const keptUntil = new Date(deps.now().getTime() + retentionDays * 86_400_000).toISOString().slice(0, 10);
    return render(
      c,
      deps,
      { title: tr(c)('mailbox.confirm.title', { address }), help: 'mailbox', domain, section: 'mailboxes' },
      <ConfirmRemovePage
        csrf={csrfOf(c)}
        domain={domain}
        mb={mb}
        aliases={aliases}
        purge={purge}
        retentionDays={retentionDays}
        keptUntil={keptUntil}
      />,
    );
  });

  app.post('/d/:domain/mailboxes/:address/remove', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const address = scopedAddress(c, actor, domain);
    const form = validate(removeMailboxForm, await readForm(c));
    const purge = form.ok && !!form.data.purge;
    const removed = await deps.directory.removeMailbox(actor, address, { purge });
    await deps.sessions.destroyOwner({ kind: 'mailbox', mailboxId: removed.mailboxId });
    flash(c, {
      kind: 'ok',
      text: removed.purged
        ? tr(c)('mailbox.removedPurged', { address })
        : tr(c)('mailbox.removed', { address, date: removed.purgeAfter?.slice(0, 10) ?? '' }),
    });
    return c.redirect(`/d/${encodeURIComponent(domain)}/mailboxes`, 303);
  });

  app.post('/d/:domain/mailboxes/:address/password', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const address = scopedAddress(c, actor, domain);
    const form = validate(passwordForm, await readForm(c));
    if (!form.ok) return detailPage(c, actor, domain, address, { errors: form.errors }, 400);
    const { mb } = await mailboxWithAliases(deps, actor, domain, address);
    const why = personalPasswordProblem(form.data.newPassword, {
      names: [mb.firstName, mb.lastName, mb.username],
      address,
    });
    if (why) return detailPage(c, actor, domain, address, { errors: { newPassword: why } }, 400);
    try {
      await deps.directory.setPassword(actor, address, form.data.newPassword);
    } catch (err) {
      if (!(err instanceof DirectoryError && err.code === 'invalid')) throw err;
      return detailPage(c, actor, domain, address, { errors: { newPassword: err.message } }, 400);
    }
    flash(c, { kind: 'ok', text: tr(c)('mailboxFlash.passwordSet', { address }) });
    return c.redirect(mailboxPath(domain, address), 303);
  });

  app.post('/d/:domain/mailboxes/:address/expiry', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const address = scopedAddress(c, actor, domain);
    const raw = await readForm(c);
    const form = validate(expiryForm, raw);
    if (!form.ok) return detailPage(c, actor, domain, address, { errors: form.errors, values: raw }, 400);
    try {
      const { expiresOn } = await deps.directory.setExpiry(actor, address, form.data.expiresOn ?? null);
      flash(c, {
        kind: 'ok',
        text: expiresOn ? `${address} now works until ${expiresOn}.` : `${address} no longer expires.`,
      });
    } catch (err) {
      if (!(err instanceof DirectoryError && err.code === 'invalid')) throw err;
      return detailPage(c, actor, domain, address, { errors: { expiresOn: err.message }, values: raw }, 400);
    }
    return c.redirect(mailboxPath(domain, address), 303);
  });

  return app;
}
