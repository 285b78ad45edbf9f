/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Changing a mailbox after creation (issue 19): POST /d/:domain/mailboxes/:address/details (names: a
 * rename that keeps the old address as an alias; group, contact, flag, type), .../quota, .../restore. Each
 * checks the actor's scope first; the directory checks it again.
 */
import { DirectoryError, parseSizeText } from '@delegato/directory';
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { readForm } from '../forms.js';
import { adminActor, type Ctx, scopedAddress, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { MailboxPage, mailboxPath, sizeInput } from '../views/mailboxes.js';
import { mailboxWithAliases } from './mailboxes.js';

/** A refusal the admin can act on (bad value, taken address, a limit reached), shown beside the form. */
const fixable = (err: unknown): err is DirectoryError =>
  err instanceof DirectoryError &&
  (err.code === 'invalid' || err.code === 'duplicate' || err.code === 'conflict');

const text = (v: string | string[] | undefined) => (typeof v === 'string' ? v.trim() : '');

export function mailboxEditRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const target = async (c: Ctx) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    return { actor, domain, address: scopedAddress(c, actor, domain) };
  };

  /** The mailbox page again with the form's values and the error beside its field (400). */
  const again = async (
    c: Ctx,
    t: Awaited<ReturnType<typeof target>>,
    values: Record<string, string | string[]>,
    errors: Record<string, string>,
  ) => {
    const { mb, aliases } = await mailboxWithAliases(deps, t.actor, t.domain, t.address);
    return render(
      c,
      deps,
      { title: mb.address, help: 'mailbox', domain: t.domain, section: 'mailboxes' },
      <MailboxPage
        csrf={csrfOf(c)}
        domain={t.domain}
        mb={mb}
        aliases={aliases}
        retentionDays={deps.directory.options.retentionDays}
        values={values}
        errors={errors}
      />,
      400,
    );
  };

  app.post('/d/:domain/mailboxes/:address/quota', async (c) => {
    const t = await target(c);
    const values = await readForm(c);
    try {
      const quotaBytes = parseSizeText(text(values.quota));
      const r = await deps.directory.setQuota(t.actor, t.address, quotaBytes);
      flash(c, {
        kind: 'ok',
        text: tr(c)('mailbox.quota.saved', {
          address: t.address,
          quota: r.quotaBytes === null ? tr(c)('mailbox.quota.none') : sizeInput(r.quotaBytes),
        }),
      });
    } catch (err) {
      if (!fixable(err)) throw err;
      return again(c, t, values, { quota: err.message });
    }
    return c.redirect(mailboxPath(t.domain, t.address), 303);
  });

  app.post('/d/:domain/mailboxes/:address/details', async (c) => {
    const t = await target(c);
    const values = await readForm(c);
    const { mb } = await mailboxWithAliases(deps, t.actor, t.domain, t.address);
    let address = t.address;
    try {
      const first = text(values.firstName);
      const last = text(values.lastName);
      if ((first || last) && (first !== (mb.firstName ?? '') || last !== (mb.lastName ?? ''))) {
        const renamed = await deps.directory.renameMailbox(t.actor, t.address, {
          ...(first ? { firstName: first } : {}),
          ...(last ? { lastName: last } : {}),
        });
        address = renamed.address;
        flash(c, { kind: 'ok', text: tr(c)('mailbox.edit.renamed', { old: t.address, address }) });
      }
      const kind = text(values.kind);
      const r = await deps.directory.updateMailbox(t.actor, {
        address,
        group: text(values.group),
        contact: text(values.contact),
        flag: text(values.flag),
        ...(kind === 'personal' || kind === 'role' ? { kind } : {}),
      });
      if (r.changed.length > 0) flash(c, { kind: 'ok', text: tr(c)('mailbox.edit.saved', { address }) });
      else if (address === t.address) flash(c, { kind: 'ok', text: tr(c)('mailbox.edit.nothing') });
    } catch (err) {
      if (!fixable(err)) throw err;
      if (address !== t.address) return c.redirect(mailboxPath(t.domain, address), 303);
      const field = /group/.test(err.message)
        ? 'group'
        : /contact/.test(err.message)
          ? 'contact'
          : /flag/.test(err.message)
            ? 'flag'
            : /type|personal|role/.test(err.message)
              ? 'kind'
              : 'lastName';
      return again(c, t, values, { [field]: err.message });
    }
    return c.redirect(mailboxPath(t.domain, address), 303);
  });

  app.post('/d/:domain/mailboxes/:address/restore', async (c) => {
    const t = await target(c);
    try {
      await deps.directory.restoreMailbox(t.actor, t.address);
    } catch (err) {
      if (!fixable(err)) throw err;
      flash(c, { kind: 'error', text: err.message });
      return c.redirect(mailboxPath(t.domain, t.address), 303);
    }
    flash(c, { kind: 'ok', text: tr(c)('mailbox.restore.done', { address: t.address }) });
    return c.redirect(mailboxPath(t.domain, t.address), 303);
  });

  return app;
}
