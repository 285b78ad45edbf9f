/**
 * Built-in lists in the JSON API (issue 19), against the real appliance: a domain administrator's token
 * creates a list, changes its members, reads it, sees a held post, reads it as text, approves one and
 * rejects another, and removes the list; bad bodies are 400 with the field named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerPort, OP, sendMail, startTestAppliance, WebClient } from './admin-support.js';

const D = 'iat.example';
const ADMIN = 'iat-admin';
const PASSWORD = 'Iat-Admin-Pass-1';
const LIST = `news@${D}`;
const BASE = `/api/v1/domains/${D}/mailing-lists`;

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let api: WebClient;
let token = '';

async function call(method: string, path: string, json?: unknown) {
  const r = await api.fetch(method, path, { bearer: token, ...(json === undefined ? {} : { json }) });
  return { status: r.status, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  t = await startTestAppliance('delegato-lists-api-');
  const d = t.app.directory;
  await d.addDomain(OP, D);
  await d.addAdmin(OP, { username: ADMIN, role: 'domain-admin', domains: [D], password: PASSWORD });
  await d.addMailbox(OP, { domain: D, kind: 'personal', firstName: 'Rose', lastName: 'Pinkcheeks' });
  api = new WebClient(t.origin);
  const r = await api.fetch('POST', '/api/v1/tokens', { json: { username: ADMIN, password: PASSWORD } });
  token = (JSON.parse(r.body) as { token: string }).token;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('the mailing-lists API', { timeout: 60_000 }, () => {
  it('creates, changes, reads and removes a list; moderates its held posts', async () => {
    const bad = await call('POST', BASE, {
      address: LIST,
      owner: `rose.pinkcheeks@${D}`,
      senders: 'everyone',
    });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { fields: Record<string, string> }).fields).toHaveProperty('senders');

    const made = await call('POST', BASE, {
      address: 'news',
      owner: `pinkcheeks@${D}`,
      senders: 'anyone',
      moderated: true,
      members: [`rose.pinkcheeks@${D}`],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ address: LIST, owner: `rose.pinkcheeks@${D}`, moderated: true });
    expect((await call('POST', BASE, { address: LIST, owner: `rose.pinkcheeks@${D}` })).status).toBe(409);

    const members = await call('POST', `${BASE}/${LIST}/members`, { add: ['ext@remote.example'] });
    expect(members.status).toBe(200);
    expect(members.body.members).toEqual(['ext@remote.example', `rose.pinkcheeks@${D}`]);
    expect((await call('POST', `${BASE}/${LIST}/members`, {})).status).toBe(400);
    const settings = await call('PUT', `${BASE}/${LIST}/settings`, {
      owner: `rose.pinkcheeks@${D}`,
      senders: 'listed',
      allowedSenders: ['boss@remote.example'],
      moderated: true,
    });
    expect(settings.body).toMatchObject({ senders: 'listed', allowedSenders: ['boss@remote.example'] });
    expect((await call('PUT', `${BASE}/${LIST}/settings`, { owner: `rose.pinkcheeks@${D}` })).status).toBe(
      400,
    );
    await call('PUT', `${BASE}/${LIST}/settings`, {
      owner: `rose.pinkcheeks@${D}`,
      senders: 'anyone',
      moderated: true,
    });
    const all = await call('GET', BASE);
    expect((all.body as unknown as Array<{ address: string }>).map((l) => l.address)).toEqual([LIST]);

    const smtp = listenerPort(t.app, 'smtp');
    await sendMail(smtp, LIST, 'first-post');
    await sendMail(smtp, LIST, 'second-post');
    const pending = (await call('GET', `${BASE}/${LIST}/pending`)).body as unknown as Array<{
      id: string;
      subject: string;
    }>;
    expect(pending.map((p) => p.subject)).toEqual(['first-post', 'second-post']);
    const [first, second] = pending;
    const shown = await call('GET', `${BASE}/${LIST}/pending/${first?.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ subject: 'first-post', text: expect.stringContaining('Hello.') });
    expect(shown.body).not.toHaveProperty('token');
    const approved = await call('POST', `${BASE}/${LIST}/pending/${first?.id}/approve`);
    expect(approved.body).toMatchObject({
      id: first?.id,
      state: 'pending',
      decidedBy: `domain-admin:${ADMIN}`,
    });
    const rejected = await call('POST', `${BASE}/${LIST}/pending/${second?.id}/reject`);
    expect(rejected.body).toMatchObject({ id: second?.id, state: 'rejected' });
    expect((await call('POST', `${BASE}/${LIST}/pending/${second?.id}/approve`)).status).toBe(404);
    expect((await call('GET', `${BASE}/${LIST}/pending`)).body).toEqual([]);

    expect((await call('DELETE', `${BASE}/${LIST}`)).body).toEqual({ address: LIST, removed: true });
    expect((await call('GET', `${BASE}/${LIST}`)).status).toBe(404);
  });
});
