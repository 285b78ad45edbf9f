/** Forms and JSON bodies of built-in lists (routes/mailing-lists.tsx, api/mailing-lists.ts). */
import { z } from 'zod';
import { requiredText } from './schemas.js';

/** Addresses one per line or separated by commas or spaces. */
const addresses = (label: string, max: number) =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(/[\s,;]+/)
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    )
    .refine((v) => v.length <= max, `${label}: at most ${max} addresses at once`);

export const SENDER_RULES = ['members', 'domain', 'anyone', 'listed'] as const;

export const listCreateForm = z.object({
  address: requiredText('List address', 320),
  owner: requiredText('Owner', 320),
  senders: z.enum(SENDER_RULES, { error: 'Choose who may post' }),
  allowedSenders: addresses('Allowed senders', 100),
  moderated: z
    .string()
    .optional()
    .transform((v) => v === 'on' || v === 'yes' || v === 'true'),
  members: addresses('Members', 1000),
});

export const memberForm = z.object({
  members: addresses('Members', 1000).refine((v) => v.length > 0, 'Members: give at least one address'),
});

const address = z.string().min(1).max(320);

export const apiListCreate = z.object({
  address,
  owner: address,
  senders: z.enum(SENDER_RULES).optional(),
  allowedSenders: z.array(address).max(100).optional(),
  moderated: z.boolean().optional(),
  members: z.array(address).max(1000).optional(),
});

export const apiListSettings = z.object({
  owner: address,
  senders: z.enum(SENDER_RULES),
  allowedSenders: z.array(address).max(100).optional(),
  moderated: z.boolean(),
});

export const listSettingsForm = z.object({
  owner: requiredText('Owner', 320),
  senders: z.enum(SENDER_RULES, { error: 'Choose who may post' }),
  allowedSenders: addresses('Allowed senders', 100),
  moderated: z
    .string()
    .optional()
    .transform((v) => v === 'on' || v === 'yes' || v === 'true'),
});

export const apiListMembers = z
  .object({ add: z.array(address).max(1000).optional(), remove: z.array(address).max(1000).optional() })
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) > 0, 'give add or remove');

// ------------------------------------------------------------------ API answers (openapi.ts)

export const apiList = z.object({
  address: z.string(),
  domain: z.string(),
  owner: z.string(),
  senders: z.enum(SENDER_RULES),
  allowedSenders: z.array(z.string()),
  moderated: z.boolean(),
  members: z.array(z.string()),
  createdAt: z.string(),
});

export const apiHeldPost = z.object({
  id: z.string(),
  list: z.string(),
  sender: z.string(),
  from: z.string(),
  subject: z.string(),
  size: z.number(),
  state: z.enum(['held', 'pending', 'rejected', 'expired']),
  receivedAt: z.string(),
  expiresAt: z.string().nullable(),
  decidedBy: z.string().optional(),
});

export const apiHeldPostText = apiHeldPost.extend({
  to: z.string(),
  date: z.string(),
  text: z.string(),
  attachments: z.array(z.object({ filename: z.string(), contentType: z.string(), size: z.number() })),
});
