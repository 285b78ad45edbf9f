/**
 * Built-in lists (issue 19): the MTA's list service (packages/mta/src/lists/) on this data dir, wired to
 * the directory, the mail store and the outbound queue. The MX, submission and federation listeners take
 * its hooks; the admin UI, the CLI and the expiry job its moderation side.
 */
import type { Directory } from '@delegato/directory';
import type { MailStore } from '@delegato/mailstore';
import { ListModeration, ListService, type OutboundQueue, PostStore } from '@delegato/mta';
import type { Logger } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { dataPaths } from '../data-dir.js';

export function startLists(opts: {
  config: Config;
  directory: Directory;
  store: MailStore;
  queue: OutboundQueue;
  logger: Logger;
}): ListService {
  return ListService.open({
    dir: dataPaths(opts.config.data.dir).lists,
    region: opts.config.region.id,
    hostname: opts.config.smtp.hostname,
    directory: opts.directory,
    store: opts.store,
    queue: opts.queue,
    logger: opts.logger.child({ proto: 'lists' }),
    holdDays: opts.config.lists.holdDays,
  });
}

/**
 * The moderation side on a data dir with no appliance running (the CLI): decisions are recorded, and the
 * appliance sends what they cause when it next starts.
 */
export function offlineModeration(config: Config): ListModeration {
  return new ListModeration(PostStore.open(dataPaths(config.data.dir).lists), () => undefined);
}

/** The scheduled job: held posts past `lists.holdDays` expire, with a notice to the poster. */
export function expireHeldPosts(lists: ListService): Promise<number> {
  return lists.moderation.expire();
}
