/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Built-in lists: the domain's lists with the create form, one list (settings, members, held messages),
 * a held message shown as text only (escaped by JSX, in a <pre>: no markup, no images, no links), and the
 * owner's own page of the lists they moderate.
 */
import type { ListView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { type T, useT } from '../i18n/index.js';
import type { HeldPost, HeldPostText } from '../list-posts.js';
import { MemberImportLinks } from './address-import.js';
import { ButtonForm, CsrfInput, Field, FieldError, FormError, TextArea } from './form.js';
import { seg as enc } from './paths.js';

const RADIO = {
  members: 'lists.sendersMembers',
  domain: 'lists.sendersDomain',
  anyone: 'lists.sendersAnyone',
  listed: 'lists.sendersListed',
} as const;

function sendersText(t: T, l: ListView): string {
  return t(`lists.rule.${l.senders}`, { senders: l.allowedSenders.join(', ') });
}

export const MailingListsPage: FC<{
  csrf: string;
  domain: string;
  lists: ListView[];
  held: Record<string, number>;
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = (p) => {
  const t = useT();
  const senders = one(p.values, 'senders') || 'members';
  return (
    <section>
      <h1>{t('lists.title', { domain: p.domain })}</h1>
      <p>
        {t('lists.intro')} <a href={`/d/${enc(p.domain)}/lists`}>{t('lists.introAlias')}</a>.
      </p>
      {p.lists.length === 0 ? (
        <p>{t('lists.none')}</p>
      ) : (
        <table class="mailing-lists">
          <thead>
            <tr>
              <th>{t('lists.colList')}</th>
              <th>{t('lists.colOwner')}</th>
              <th>{t('lists.colSenders')}</th>
              <th>{t('lists.colMembers')}</th>
              <th>{t('lists.colHeld')}</th>
            </tr>
          </thead>
          <tbody>
            {p.lists.map((l) => (
              <tr>
                <td>
                  <a href={`/d/${enc(p.domain)}/mailing-lists/${enc(l.address)}`}>{l.address}</a>
                  {l.moderated ? <span class="tag">{t('lists.tagModerated')}</span> : null}
                </td>
                <td>{l.owner}</td>
                <td>{sendersText(t, l)}</td>
                <td>{l.members.length}</td>
                <td>{p.held[l.address] ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('lists.createTitle')}</h2>
      <FormError error={p.formError} />
      <form method="post" action={`/d/${enc(p.domain)}/mailing-lists`} class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="address"
          label={t('lists.address')}
          value={one(p.values, 'address')}
          required
          error={p.errors?.address}
          hint={t('lists.addressHint', { domain: p.domain })}
        />
        <Field
          name="owner"
          label={t('lists.owner')}
          value={one(p.values, 'owner')}
          required
          error={p.errors?.owner}
          hint={t('lists.ownerHint')}
        />
        <fieldset>
          <legend>{t('lists.senders')}</legend>
          {(['members', 'domain', 'anyone', 'listed'] as const).map((v) => (
            <div class="radio">
              <input type="radio" id={`senders-${v}`} name="senders" value={v} checked={senders === v} />
              <label for={`senders-${v}`}>{t(RADIO[v])}</label>
            </div>
          ))}
          <FieldError id="senders" error={p.errors?.senders} />
        </fieldset>
        <TextArea
          name="allowedSenders"
          label={t('lists.allowedSenders')}
          value={one(p.values, 'allowedSenders')}
          error={p.errors?.allowedSenders}
          hint={t('lists.allowedSendersHint')}
        />
        <div class="radio">
          <input
            type="checkbox"
            id="moderated"
            name="moderated"
            value="yes"
            checked={one(p.values, 'moderated') === 'yes'}
          />
          <label for="moderated">{t('lists.moderated')}</label>
        </div>
        <TextArea
          name="members"
          label={t('lists.members')}
          value={one(p.values, 'members')}
          error={p.errors?.members}
          rows={5}
          hint={t('lists.membersHint')}
        />
        <button type="submit">{t('lists.create')}</button>
      </form>
    </section>
  );
};

/** The held messages of a list, each with view, approve and reject. `base`: the list's page path. */
export const HeldTable: FC<{ csrf: string; base: string; held: HeldPost[] }> = (p) => {
  const t = useT();
  return p.held.length === 0 ? (
    <p>{t('lists.heldNone')}</p>
  ) : (
    <table class="held">
      <thead>
        <tr>
          <th>{t('lists.colReceived')}</th>
          <th>{t('lists.colFrom')}</th>
          <th>{t('lists.colSubject')}</th>
          <th>{t('lists.colSize')}</th>
          <th>{t('lists.colDecide')}</th>
        </tr>
      </thead>
      <tbody>
        {p.held.map((h) => (
          <tr>
            <td>{h.receivedAt.slice(0, 16).replace('T', ' ')}</td>
            <td>{h.from || h.sender}</td>
            <td>
              <a href={`${p.base}/held/${enc(h.id)}`}>{h.subject || t('lists.noSubject')}</a>
            </td>
            <td>{t('lists.bytes', { size: h.size })}</td>
            <td>
              <ButtonForm
                action={`${p.base}/held/${enc(h.id)}/approve`}
                csrf={p.csrf}
                label={t('lists.approve')}
              />
              <ButtonForm
                action={`${p.base}/held/${enc(h.id)}/reject`}
                csrf={p.csrf}
                label={t('lists.reject')}
                danger
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

/** The owner, who may post and moderation of a list, filled in with what it has now. */
const SettingsForm: FC<{
  csrf: string;
  base: string;
  list: ListView;
  values?: FormValues | undefined;
  errors?: FieldErrors | undefined;
}> = ({ csrf, base, list, values, errors }) => {
  const t = useT();
  const mine = values !== undefined && 'owner' in values;
  const value = (key: string, current: string) => (mine ? one(values, key) : current);
  const senders = value('senders', list.senders);
  return (
    <form method="post" action={`${base}/settings`} class="card">
      <h2>{t('lists.settingsTitle')}</h2>
      <CsrfInput token={csrf} />
      <Field
        name="owner"
        label={t('lists.owner')}
        value={value('owner', list.owner)}
        required
        error={mine ? errors?.owner : undefined}
        hint={t('lists.ownerHint')}
      />
      <fieldset>
        <legend>{t('lists.senders')}</legend>
        {(['members', 'domain', 'anyone', 'listed'] as const).map((v) => (
          <div class="radio">
            <input type="radio" id={`set-senders-${v}`} name="senders" value={v} checked={senders === v} />
            <label for={`set-senders-${v}`}>{t(RADIO[v])}</label>
          </div>
        ))}
      </fieldset>
      <TextArea
        name="allowedSenders"
        id="set-allowedSenders"
        label={t('lists.allowedSenders')}
        value={value('allowedSenders', list.allowedSenders.join('\n'))}
        error={mine ? errors?.allowedSenders : undefined}
        hint={t('lists.allowedSendersHint')}
      />
      <div class="radio">
        <input
          type="checkbox"
          id="set-moderated"
          name="moderated"
          value="yes"
          checked={mine ? one(values, 'moderated') === 'yes' : list.moderated}
        />
        <label for="set-moderated">{t('lists.moderated')}</label>
      </div>
      <button type="submit">{t('lists.saveSettings')}</button>
    </form>
  );
};

export const MailingListPage: FC<{
  csrf: string;
  domain: string;
  list: ListView;
  held: HeldPost[];
  values?: FormValues;
  errors?: FieldErrors;
}> = ({ csrf, domain, list, held, values, errors }) => {
  const t = useT();
  const base = `/d/${enc(domain)}/mailing-lists/${enc(list.address)}`;
  return (
    <section>
      <h1>{list.address}</h1>
      <dl class="facts">
        <dt>{t('lists.owner')}</dt>
        <dd>{list.owner}</dd>
        <dt>{t('lists.senders')}</dt>
        <dd>{sendersText(t, list)}</dd>
        <dt>{t('lists.isModerated')}</dt>
        <dd>{list.moderated ? t('lists.moderatedYes') : t('lists.moderatedNo')}</dd>
      </dl>
      <h2>{t('lists.heldTitle')}</h2>
      <HeldTable csrf={csrf} base={base} held={held} />
      <SettingsForm csrf={csrf} base={base} list={list} values={values} errors={errors} />
      <h2>{t('lists.membersTitle', { count: list.members.length })}</h2>
      {list.members.length === 0 ? (
        <p>{t('lists.membersNone')}</p>
      ) : (
        <table class="members">
          <tbody>
            {list.members.map((m) => (
              <tr>
                <td>{m}</td>
                <td>
                  <ButtonForm
                    action={`${base}/members/remove`}
                    csrf={csrf}
                    label={t('lists.removeMember')}
                    danger
                  >
                    <input type="hidden" name="members" value={m} />
                  </ButtonForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MemberImportLinks base={base} />
      <form method="post" action={`${base}/members/add`} class="card">
        <CsrfInput token={csrf} />
        <TextArea
          name="members"
          label={t('lists.addMembers')}
          value={values && !('owner' in values) ? one(values, 'members') : ''}
          error={values && !('owner' in values) ? errors?.members : undefined}
          rows={4}
          hint={t('lists.addMembersHint')}
        />
        <button type="submit">{t('lists.addMembers')}</button>
      </form>
      <form method="post" action={`${base}/remove`} class="card">
        <h2>{t('lists.removeTitle')}</h2>
        <CsrfInput token={csrf} />
        <p>{t('lists.removeText')}</p>
        <button type="submit" class="danger">
          {t('lists.remove')}
        </button>
      </form>
    </section>
  );
};

/** A held message, read safely: its header fields and its text, never its HTML or attachments. */
export const HeldPostPage: FC<{ csrf: string; base: string; post: HeldPostText }> = ({
  csrf,
  base,
  post,
}) => {
  const t = useT();
  return (
    <section>
      <h1>{t('lists.heldFor', { list: post.list })}</h1>
      <dl class="facts">
        <dt>{t('lists.colFrom')}</dt>
        <dd>{post.from || post.sender}</dd>
        <dt>{t('lists.sender')}</dt>
        <dd>{post.sender}</dd>
        <dt>{t('lists.to')}</dt>
        <dd>{post.to}</dd>
        <dt>{t('lists.colSubject')}</dt>
        <dd>{post.subject || t('lists.noSubject')}</dd>
        <dt>{t('lists.colReceived')}</dt>
        <dd>{post.receivedAt}</dd>
        <dt>{t('lists.expires')}</dt>
        <dd>{post.expiresAt ?? ''}</dd>
      </dl>
      <p class="muted">{t('lists.plainText')}</p>
      <pre class="message-text">{post.text}</pre>
      {post.attachments.length > 0 ? (
        <>
          <h2>{t('lists.attachments')}</h2>
          <ul>
            {post.attachments.map((a) => (
              <li>
                {a.filename} ({a.contentType}, {t('lists.bytes', { size: a.size })})
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <ButtonForm action={`${base}/held/${enc(post.id)}/approve`} csrf={csrf} label={t('lists.approve')} />
      <ButtonForm
        action={`${base}/held/${enc(post.id)}/reject`}
        csrf={csrf}
        label={t('lists.reject')}
        danger
      />
    </section>
  );
};

/** The lists a mailbox owns, each with its held messages (on /me and /me/lists). */
export const OwnedLists: FC<{ csrf: string; lists: Array<{ list: ListView; held: HeldPost[] }> }> = (p) => {
  const t = useT();
  return (
    <>
      {p.lists.map(({ list, held }) => (
        <section class="owned-list">
          <h2>{t('lists.ownedList', { address: list.address })}</h2>
          <p>
            {t('lists.ownedSummary', {
              count: list.members.length,
              senders: sendersText(t, list),
              moderated: list.moderated ? t('lists.summaryModerated') : t('lists.summaryNotModerated'),
            })}
          </p>
          <HeldTable csrf={p.csrf} base={`/me/lists/${enc(list.address)}`} held={held} />
        </section>
      ))}
    </>
  );
};

/** The owner's page (self-service): the lists they own, each with its held messages. */
export const OwnedListsPage: FC<{ csrf: string; lists: Array<{ list: ListView; held: HeldPost[] }> }> = (
  p,
) => {
  const t = useT();
  return (
    <section>
      <h1>{t('lists.ownedTitle')}</h1>
      {p.lists.length === 0 ? <p>{t('lists.ownedNone')}</p> : <OwnedLists csrf={p.csrf} lists={p.lists} />}
    </section>
  );
};
