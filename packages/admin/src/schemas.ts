/**
 * The zod schemas of every form and API body. Forms send strings; the API sends JSON. Both end up as
 * the same directory call, so the shapes below are shared where they can be.
 */
import { normaliseFingerprint, normaliseNetworks } from '@delegato/directory';
import { z } from 'zod';

const MAX = 256;

/** The directory's own check, as a zod message (the same rule for the form and the API). */
function directoryCheck<T>(fn: () => T): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : 'invalid';
  }
}

/** A list of networks (CIDR or single addresses); the first invalid one is named in the message. */
const networkList = z
  .array(z.string().trim().max(64, 'A network is at most 64 characters'))
  .max(64, 'At most 64 networks')
  .superRefine((list, ctx) => {
    const problem = directoryCheck(() => normaliseNetworks(list));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A SHA-256 certificate fingerprint (64 hex digits, colons allowed); empty = none. */
const fingerprint = z
  .string()
  .trim()
  .max(200, 'A fingerprint is at most 200 characters')
  .refine((v) => v === '' || directoryCheck(() => normaliseFingerprint(v)) === null, {
    message: 'A SHA-256 fingerprint is 64 hexadecimal digits (colons allowed), as openssl prints it',
  });

/** A trimmed text field; empty means absent. */
export const optionalText = (label: string) =>
  z
    .string()
    .trim()
    .max(MAX, `${label} is too long (at most ${MAX} characters)`)
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

export const requiredText = (label: string, max = MAX) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, `${label} is required`)
    .max(max, `${label} is too long (at most ${max} characters)`);

const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2026-12-31')
  .optional()
  .or(z.literal(''))
  .transform((v) => (v === undefined || v === '' ? undefined : v));

/** Passwords are checked again by the directory (length, no line breaks); this gives the early message. */
export const password = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .min(8, `${label} must have at least 8 characters`)
    .max(1024, `${label} is too long`)
    .refine((v) => !/[\r\n\0]/.test(v), `${label} must not contain line breaks`);

export const loginForm = z.object({
  username: requiredText('Username', 320),
  password: z.string({ error: 'Password is required' }).min(1, 'Password is required').max(1024),
});

export const totpForm = z.object({
  code: z
    .string({ error: 'Enter the 6-digit code' })
    .trim()
    .regex(/^\d{3} ?\d{3}$/, 'Enter the 6-digit code from your app'),
});

export const domainForm = z.object({
  domain: requiredText('Domain', 253),
  region: optionalText('Region'),
});

export const removeDomainForm = z.object({
  force: z.string().optional(),
});

export const adminForm = z
  .object({
    username: requiredText('Username', 64),
    password: password('Password'),
    role: z.enum(['operator', 'domain-admin'], { error: 'Choose a role' }),
    domains: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) =>
        (v === undefined ? [] : Array.isArray(v) ? v : v.split(/[\s,]+/))
          .map((d) => d.trim())
          .filter((d) => d.length > 0),
      ),
  })
  .superRefine((v, ctx) => {
    if (v.role === 'domain-admin' && v.domains.length === 0)
      ctx.addIssue({ code: 'custom', path: ['domains'], message: 'Choose at least one domain' });
    if (v.role === 'operator' && v.domains.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['domains'],
        message: 'An operator manages every domain: choose none',
      });
  });

/** The admin edit form (operators): access restrictions. */
export const adminAccessForm = z.object({
  allowedNetworks: z
    .string()
    .max(4096, 'Too long')
    .optional()
    .transform((v) => (v ?? '').split(/[\s,]+/).filter((n) => n.length > 0))
    .pipe(networkList),
  certFingerprint: fingerprint.optional().transform((v) => (v ? v : null)),
});

export const mailboxForm = z
  .object({
    firstName: optionalText('First name'),
    lastName: optionalText('Last name'),
    username: optionalText('Username'),
    group: optionalText('Group'),
    password: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v === '' ? undefined : v))
      .pipe(password('Password').optional()),
    kind: z.enum(['personal', 'role'], { error: 'Choose personal or role' }).default('personal'),
    email: optionalText('E-mail'),
    expiresOn: isoDate,
    contact: optionalText('Contact person'),
    flag: optionalText('Flag'),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'personal') {
      if (!v.firstName)
        ctx.addIssue({ code: 'custom', path: ['firstName'], message: 'First name is required' });
      if (!v.lastName) ctx.addIssue({ code: 'custom', path: ['lastName'], message: 'Last name is required' });
    } else if (!v.email) {
      ctx.addIssue({
        code: 'custom',
        path: ['email'],
        message: 'A role address needs its e-mail address (for example helpdesk)',
      });
    }
  });

export const passwordForm = z.object({ newPassword: password('New password') });

export const expiryForm = z.object({ expiresOn: isoDate });

export const removeMailboxForm = z.object({ purge: z.string().optional() });

export const changeOwnPasswordForm = z.object({
  currentPassword: z.string({ error: 'Current password is required' }).min(1, 'Current password is required'),
  newPassword: password('New password'),
});

/** Targets: one per line or separated by commas (or spaces). */
const addressList = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .transform((v) =>
      v
        .split(/[\s,;]+/)
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    )
    .refine((v) => v.length > 0, `${label}: give at least one address`)
    .refine((v) => v.length <= 100, `${label}: at most 100 addresses`);

export const aliasForm = z.object({ alias: requiredText('Alias', 320), targets: addressList('Targets') });
export const forwardForm = z.object({
  address: requiredText('Address', 320),
  remote: requiredText('Remote address', 320),
});
export const listForm = z.object({
  address: requiredText('Address', 320),
  listServer: requiredText('List server address', 320),
});

// ------------------------------------------------------------------ JSON API bodies

export const apiTokenRequest = z.object({
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  code: z.string().max(16).optional().describe('The current TOTP code, for admins with two-step sign-in'),
});
export const apiTokenResponse = z.object({ token: z.string(), expiresAt: z.string() });

export const apiDomain = z.object({
  name: z.string(),
  region: z.string(),
  mailboxes: z.number().int(),
  createdAt: z.string(),
});
export const apiNewDomain = z.object({
  name: z.string().min(1).max(253),
  region: z.string().max(32).optional(),
});

export const apiAdmin = z.object({
  username: z.string(),
  role: z.enum(['operator', 'domain-admin']),
  domains: z.array(z.string()),
  createdAt: z.string().optional(),
  allowedNetworks: z
    .array(z.string())
    .optional()
    .describe('CIDRs the admin may connect from; empty = any address'),
  certFingerprint: z
    .string()
    .nullable()
    .optional()
    .describe('SHA-256 (hex) of the TLS client certificate the admin must present; null = none'),
  totp: z.boolean().optional().describe('whether the admin uses two-step sign-in'),
});
export const apiAdminAccess = z
  .object({
    allowedNetworks: networkList
      .nullable()
      .optional()
      .describe('CIDRs (or single addresses) the admin may connect from; [] or null = any address'),
    certFingerprint: fingerprint
      .nullable()
      .optional()
      .describe('SHA-256 fingerprint of the client certificate the admin must present; null or "" = none'),
  })
  .strict();
export const apiNewAdmin = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(8).max(1024),
  role: z.enum(['operator', 'domain-admin']),
  domains: z.array(z.string().max(253)).max(1000).optional(),
});

export const apiRegion = z.object({ name: z.string(), title: z.string() });

export const apiAudit = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  actorFrom: z.string(),
  action: z.string(),
  target: z.string(),
  domain: z.string().nullable(),
  details: z.string().nullable(),
});

export const apiMailbox = z.object({
  address: z.string(),
  kind: z.enum(['personal', 'role']),
  username: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  group: z.string().nullable(),
  contact: z.string().nullable(),
  flag: z.string().nullable(),
  quotaBytes: z.number().nullable(),
  expiresOn: z.string().nullable(),
  expired: z.boolean(),
  state: z.enum(['active', 'removed']),
  purgeAfter: z.string().nullable(),
  createdAt: z.string(),
});
export const apiMailboxList = z.object({ total: z.number().int(), mailboxes: z.array(apiMailbox) });

export const apiNewMailbox = z.object({
  kind: z.enum(['personal', 'role']).default('personal'),
  firstName: z.string().max(MAX).optional(),
  lastName: z.string().max(MAX).optional(),
  localPart: z
    .string()
    .max(64)
    .optional()
    .describe('Personal: overrides the official local part; role: required'),
  username: z.string().max(64).optional(),
  group: z.string().max(64).optional(),
  contact: z.string().max(MAX).optional(),
  flag: z.string().max(MAX).optional(),
  quotaBytes: z.number().int().min(0).nullable().optional(),
  expiresOn: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable()
    .optional(),
  password: z
    .string()
    .min(8)
    .max(1024)
    .optional()
    .describe('Absent: a random password is generated and returned once'),
});
export const apiCreatedMailbox = z.object({
  address: z.string(),
  username: z.string(),
  kind: z.enum(['personal', 'role']),
  aliases: z.array(
    z.object({ address: z.string(), ambiguous: z.boolean(), candidates: z.array(z.string()) }),
  ),
  skippedAliases: z.array(z.string()),
  password: z.string().optional(),
});

export const apiAlias = z.object({
  address: z.string(),
  kind: z.enum(['generated', 'manual', 'legacy', 'forward', 'list']),
  targets: z.array(z.string()),
  ambiguous: z.boolean(),
});
export const apiMailboxDetail = z.object({ mailbox: apiMailbox, aliases: z.array(apiAlias) });
export const apiSetPassword = z.object({ password: z.string().min(8).max(1024) });
export const apiSetExpiry = z.object({
  expiresOn: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable(),
});
export const apiNewAlias = z.object({
  alias: z.string().min(1).max(320),
  targets: z.array(z.string().min(1).max(320)).min(1).max(100),
});
export const apiNewForward = z.object({
  address: z.string().min(1).max(320),
  remote: z.string().min(1).max(320),
});
export const apiNewList = z.object({
  address: z.string().min(1).max(320),
  listServer: z.string().min(1).max(320),
});
export const apiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
});
