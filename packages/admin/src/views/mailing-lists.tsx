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
import type { HeldPost, HeldPostText } from '../list-posts.js';
import { ButtonForm, CsrfInput, Field, FieldError, FormError, TextArea } from './form.js';
import { seg as enc } from './paths.js';

const SENDERS_TEXT: Record<ListView['senders'], string> = {
  members: 'members only',
  domain: 'anyone of the domain',
  anyone: 'anyone',
  listed: 'the listed senders',
};

function sendersText(l: ListView): string {
  return l.senders === 'listed'
    ? `${SENDERS_TEXT.listed}: ${l.allowedSenders.join(', ')}`
    : SENDERS_TEXT[l.senders];
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
  const senders = one(p.values, 'senders') || 'members';
  return (
    <section>
      <h1>Mailing lists of {p.domain}</h1>
      <p>
        Lists run here: one copy of each message to every member, only the senders you allow, and on a
        moderated list nothing goes out before the owner approves it. (A list that runs on a list server
        elsewhere is a <a href={`/d/${enc(p.domain)}/lists`}>distribution-list alias</a>.)
      </p>
      {p.lists.length === 0 ? (
        <p>No mailing lists yet.</p>
      ) : (
        <table class="mailing-lists">
          <thead>
            <tr>
              <th>List</th>
              <th>Owner</th>
              <th>Who may post</th>
              <th>Members</th>
              <th>Held</th>
            </tr>
          </thead>
          <tbody>
            {p.lists.map((l) => (
              <tr>
                <td>
                  <a href={`/d/${enc(p.domain)}/mailing-lists/${enc(l.address)}`}>{l.address}</a>
                  {l.moderated ? <span class="tag">moderated</span> : null}
                </td>
                <td>{l.owner}</td>
                <td>{sendersText(l)}</td>
                <td>{l.members.length}</td>
                <td>{p.held[l.address] ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Create a list</h2>
      <FormError error={p.formError} />
      <form method="post" action={`/d/${enc(p.domain)}/mailing-lists`} class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="address"
          label="List address"
          value={one(p.values, 'address')}
          required
          error={p.errors?.address}
          hint={`For example staff (for staff@${p.domain}); staff-request@ and staff-bounces@ must be free too.`}
        />
        <Field
          name="owner"
          label="Owner"
          value={one(p.values, 'owner')}
          required
          error={p.errors?.owner}
          hint="A mailbox of your domain: the person who approves messages of a moderated list."
        />
        <fieldset>
          <legend>Who may post</legend>
          {(['members', 'domain', 'anyone', 'listed'] as const).map((v) => (
            <div class="radio">
              <input type="radio" id={`senders-${v}`} name="senders" value={v} checked={senders === v} />
              <label for={`senders-${v}`}>
                {v === 'listed'
                  ? 'Only the senders listed below'
                  : `${SENDERS_TEXT[v][0]?.toUpperCase()}${SENDERS_TEXT[v].slice(1)}`}
              </label>
            </div>
          ))}
          <FieldError id="senders" error={p.errors?.senders} />
        </fieldset>
        <TextArea
          name="allowedSenders"
          label="Allowed senders"
          value={one(p.values, 'allowedSenders')}
          error={p.errors?.allowedSenders}
          hint="Only for “Only the senders listed below”: one address per line."
        />
        <div class="radio">
          <input
            type="checkbox"
            id="moderated"
            name="moderated"
            value="yes"
            checked={one(p.values, 'moderated') === 'yes'}
          />
          <label for="moderated">Moderated: messages wait for the owner's approval</label>
        </div>
        <TextArea
          name="members"
          label="Members"
          value={one(p.values, 'members')}
          error={p.errors?.members}
          rows={5}
          hint="Optional: one address per line (here or elsewhere). You can add more later."
        />
        <button type="submit">Create list</button>
      </form>
    </section>
  );
};

/** The held messages of a list, each with view, approve and reject. `base`: the list's page path. */
export const HeldTable: FC<{ csrf: string; base: string; held: HeldPost[] }> = (p) =>
  p.held.length === 0 ? (
    <p>No messages are waiting.</p>
  ) : (
    <table class="held">
      <thead>
        <tr>
          <th>Received</th>
          <th>From</th>
          <th>Subject</th>
          <th>Size</th>
          <th>Decide</th>
        </tr>
      </thead>
      <tbody>
        {p.held.map((h) => (
          <tr>
            <td>{h.receivedAt.slice(0, 16).replace('T', ' ')}</td>
            <td>{h.from || h.sender}</td>
            <td>
              <a href={`${p.base}/held/${enc(h.id)}`}>{h.subject || '(no subject)'}</a>
            </td>
            <td>{h.size} bytes</td>
            <td>
              <ButtonForm action={`${p.base}/held/${enc(h.id)}/approve`} csrf={p.csrf} label="Approve" />
              <ButtonForm action={`${p.base}/held/${enc(h.id)}/reject`} csrf={p.csrf} label="Reject" danger />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );

export const MailingListPage: FC<{
  csrf: string;
  domain: string;
  list: ListView;
  held: HeldPost[];
  values?: FormValues;
  errors?: FieldErrors;
}> = ({ csrf, domain, list, held, values, errors }) => {
  const base = `/d/${enc(domain)}/mailing-lists/${enc(list.address)}`;
  return (
    <section>
      <h1>{list.address}</h1>
      <dl class="facts">
        <dt>Owner</dt>
        <dd>{list.owner}</dd>
        <dt>Who may post</dt>
        <dd>{sendersText(list)}</dd>
        <dt>Moderated</dt>
        <dd>{list.moderated ? 'yes: messages wait for the owner' : 'no'}</dd>
      </dl>
      <h2>Held messages</h2>
      <HeldTable csrf={csrf} base={base} held={held} />
      <h2>Members ({list.members.length})</h2>
      {list.members.length === 0 ? (
        <p>No members yet.</p>
      ) : (
        <table class="members">
          <tbody>
            {list.members.map((m) => (
              <tr>
                <td>{m}</td>
                <td>
                  <ButtonForm action={`${base}/members/remove`} csrf={csrf} label="Remove" danger>
                    <input type="hidden" name="members" value={m} />
                  </ButtonForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action={`${base}/members/add`} class="card">
        <CsrfInput token={csrf} />
        <TextArea
          name="members"
          label="Add members"
          value={one(values, 'members')}
          error={errors?.members}
          rows={4}
          hint="One address per line (here or elsewhere)."
        />
        <button type="submit">Add members</button>
      </form>
      <form method="post" action={`${base}/remove`} class="card">
        <h2>Remove the list</h2>
        <CsrfInput token={csrf} />
        <p>The address stops taking mail at once. Held messages expire, with a notice to their senders.</p>
        <button type="submit" class="danger">
          Remove list
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
}) => (
  <section>
    <h1>Held message for {post.list}</h1>
    <dl class="facts">
      <dt>From</dt>
      <dd>{post.from || post.sender}</dd>
      <dt>Sender</dt>
      <dd>{post.sender}</dd>
      <dt>To</dt>
      <dd>{post.to}</dd>
      <dt>Subject</dt>
      <dd>{post.subject || '(no subject)'}</dd>
      <dt>Received</dt>
      <dd>{post.receivedAt}</dd>
      <dt>Expires</dt>
      <dd>{post.expiresAt ?? ''}</dd>
    </dl>
    <p class="muted">Shown as plain text: no formatting, images or links of the message are loaded.</p>
    <pre class="message-text">{post.text}</pre>
    {post.attachments.length > 0 ? (
      <>
        <h2>Attachments (not shown)</h2>
        <ul>
          {post.attachments.map((a) => (
            <li>
              {a.filename} ({a.contentType}, {a.size} bytes)
            </li>
          ))}
        </ul>
      </>
    ) : null}
    <ButtonForm action={`${base}/held/${enc(post.id)}/approve`} csrf={csrf} label="Approve" />
    <ButtonForm action={`${base}/held/${enc(post.id)}/reject`} csrf={csrf} label="Reject" danger />
  </section>
);

/** The lists a mailbox owns, each with its held messages (on /me and /me/lists). */
export const OwnedLists: FC<{ csrf: string; lists: Array<{ list: ListView; held: HeldPost[] }> }> = (p) => (
  <>
    {p.lists.map(({ list, held }) => (
      <section class="owned-list">
        <h2>List {list.address}</h2>
        <p>
          {list.members.length} member(s); who may post: {sendersText(list)};{' '}
          {list.moderated ? 'moderated' : 'not moderated'}. Held messages:
        </p>
        <HeldTable csrf={p.csrf} base={`/me/lists/${enc(list.address)}`} held={held} />
      </section>
    ))}
  </>
);

/** The owner's page (self-service): the lists they own, each with its held messages. */
export const OwnedListsPage: FC<{ csrf: string; lists: Array<{ list: ListView; held: HeldPost[] }> }> = (
  p,
) => (
  <section>
    <h1>Lists you own</h1>
    {p.lists.length === 0 ? <p>You own no mailing lists.</p> : <OwnedLists csrf={p.csrf} lists={p.lists} />}
  </section>
);
