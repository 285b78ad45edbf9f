/**
 * Held posts of built-in lists, as the admin UI and API reach them: the MTA's `ListModeration`
 * (packages/mta/src/lists/moderation.ts), structurally, passed in by the appliance. It does no
 * authorisation: every route first asks the directory for the list with the request's actor (`getList`,
 * scoped to the domain) or checks that the signed-in mailbox owns it, and passes the list's address.
 */
import { HTTPException } from 'hono/http-exception';

export interface HeldPost {
  id: string;
  list: string;
  sender: string;
  from: string;
  subject: string;
  size: number;
  state: string;
  receivedAt: string;
  expiresAt: string | null;
}

export interface HeldPostText extends HeldPost {
  to: string;
  date: string;
  /** The message's text only (HTML reduced to text); shown escaped, never as markup. */
  text: string;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
}

export interface ListPosts {
  pending(list: string): Promise<HeldPost[]>;
  show(list: string, id: string): Promise<HeldPostText>;
  approve(list: string, id: string, by: string): Promise<HeldPost>;
  reject(list: string, id: string, by: string): Promise<HeldPost>;
}

/** The held posts, or 404 when this appliance has none to show (no MTA wired in). */
export function postsOf(lists: ListPosts | undefined): ListPosts {
  if (!lists) throw new HTTPException(404, { message: 'Held list messages are not available here.' });
  return lists;
}

/** Runs a moderation call; a post that is not held for that list (`PostNotFound`) is a 404. */
export async function moderated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Error && err.name === 'PostNotFound') {
      throw new HTTPException(404, { message: err.message, cause: { code: 'not-found' } });
    }
    throw err;
  }
}
