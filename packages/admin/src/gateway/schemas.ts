/** The attachment gateway section's forms and JSON bodies (zod), and its disk-usage port. */
import { z } from 'zod';

/** Disk usage of one domain in the gateway store (the appliance's; absent: nothing stored). */
export interface GatewayUsage {
  links: number;
  files: number;
  bytes: number;
}

/** Where the section reads disk usage (the appliance passes the gateway store's; `AdminOptions.gatewayUsage`). */
export type GatewayUsageSource = (domain: string) => Promise<GatewayUsage | null>;

const MiB = 1024 * 1024;

/** The rules form: the threshold in MiB, media types separated by commas or lines, days, a checkbox. */
export const gatewaySettingsForm = z.object({
  threshold: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'A size in MiB, such as 2 or 0.5.')
    .transform((v) => Math.round(Number(v) * MiB)),
  types: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(/[\s,;]+/)
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
  expiryDays: z.string().trim().regex(/^\d+$/, 'A number of days.').transform(Number),
  loginRequired: z
    .string()
    .optional()
    .transform((v) => v === 'yes'),
});

export const gatewayRegisterForm = z.object({
  kind: z.enum(['mailbox', 'domain', 'sender'], { message: 'Choose what to register.' }),
  target: z.string().trim().max(320).optional(),
});

export const gatewayUnregisterForm = z.object({
  kind: z.enum(['mailbox', 'domain', 'sender']),
  target: z.string().trim().min(1).max(320),
});

/** PUT /api/v1/domains/:domain/gateway/settings: any of the rules. */
export const apiGatewaySettings = z.object({
  thresholdBytes: z.number().int().optional(),
  mediaTypes: z.array(z.string().max(127)).max(50).optional(),
  expiryDays: z.number().int().optional(),
  loginRequired: z.boolean().optional(),
});

/**
 * POST /api/v1/domains/:domain/gateway/registrations: `domain` (every mailbox of the domain; no target),
 * `mailbox` (target: a mailbox of the domain, `anna` or `anna@domain`), `sender` (target: an address or a
 * domain whose mail to the domain's mailboxes is transformed).
 */
export const apiGatewayRegistration = z.object({
  kind: z.enum(['domain', 'mailbox', 'sender']),
  target: z.string().min(1).max(320).optional(),
});

export const apiGatewayRules = z.object({
  thresholdBytes: z.number().int(),
  mediaTypes: z.array(z.string()),
  expiryDays: z.number().int(),
  loginRequired: z.boolean(),
});

export const apiGateway = z.object({
  domain: z.string(),
  rules: apiGatewayRules,
  registrations: z.array(
    z.object({
      kind: z.enum(['mailbox', 'domain', 'sender']),
      target: z.string(),
      createdBy: z.string(),
      createdAt: z.string(),
    }),
  ),
  usage: z.object({ links: z.number().int(), files: z.number().int(), bytes: z.number().int() }).nullable(),
});
