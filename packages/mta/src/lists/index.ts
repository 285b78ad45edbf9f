/** Built-in mailing lists in the MTA: sender rules, holding, moderation, expansion. See service.ts. */
export { type Delivered, deliverTo } from './deliver.js';
export { ListModeration, PostNotFound, type PostText } from './moderation.js';
export type { ListDirectory, MailingList } from './ports.js';
export type { ListPost, PostState, PostView } from './post-store.js';
export { PostStore } from './post-store.js';
export { refusalFor } from './rules.js';
export {
  type ListDataContext,
  type ListHooks,
  ListService,
  type ListServiceOptions,
  type ListTarget,
  type ListTransaction,
} from './service.js';
