/** Issue 19's JSON API operations in the OpenAPI document (openapi.ts composes them; api/mailbox-bulk.ts). */
import type { z } from 'zod';
import { importBody, limitsBody, quotaBody, updateBody } from './api/mailbox-bulk.js';

type Json = Record<string, unknown>;

export const MAILBOX_BULK_SCHEMAS: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  SetQuota: { schema: quotaBody, io: 'input' },
  UpdateMailbox: { schema: updateBody, io: 'input' },
  ImportMailboxes: { schema: importBody, io: 'input' },
  DomainLimits: { schema: limitsBody, io: 'input' },
};

/** The paths, built with openapi.ts's helpers (passed in: they are local to it). */
export function mailboxBulkPaths(h: {
  ok: (name: string | null, description?: string) => Json;
  errors: (...codes: number[]) => Json;
  body: (name: string) => Json;
  domainP: Json;
  addressP: Json;
  std: number[];
}): Json {
  const { ok, errors, body, domainP, addressP, std } = h;
  const csv = (description: string) => ({
    description,
    content: { 'text/csv': { schema: { type: 'string' } } },
  });
  return {
    '/domains/{domain}/mailboxes/{address}/quota': {
      parameters: [domainP, addressP],
      put: {
        summary: "Set (or with null remove) a mailbox's quota in bytes, within the domain's limits",
        requestBody: body('SetQuota'),
        responses: { 200: ok(null, 'changed'), ...errors(400, ...std, 409) },
      },
    },
    '/domains/{domain}/mailboxes/{address}/restore': {
      parameters: [domainP, addressP],
      post: {
        summary: 'Restore a removed mailbox while its mail is kept',
        responses: { 200: ok(null, 'restored'), ...errors(...std, 409) },
      },
    },
    '/domains/{domain}/mailboxes/{address}/details': {
      parameters: [domainP, addressP],
      patch: {
        summary: "Change a mailbox's group, contact, flag or type (a new name: POST .../rename is the CLI's)",
        requestBody: body('UpdateMailbox'),
        responses: { 200: ok(null, 'changed'), ...errors(400, ...std, 409) },
      },
    },
    '/domains/{domain}/import': {
      parameters: [domainP],
      post: {
        summary:
          'Import mailboxes from CSV (columns named after `mailbox add`): every row or none; 422 lists the rows with errors',
        requestBody: body('ImportMailboxes'),
        responses: { 201: ok(null, 'imported'), 200: ok(null, 'dry run'), ...errors(400, ...std) },
      },
    },
    '/domains/{domain}/export/mailboxes.csv': {
      parameters: [domainP],
      get: {
        summary: "The domain's mailboxes as CSV (the import's columns)",
        responses: { 200: csv('CSV'), ...errors(...std) },
      },
    },
    '/domains/{domain}/export/aliases.csv': {
      parameters: [domainP],
      get: { summary: "The domain's aliases as CSV", responses: { 200: csv('CSV'), ...errors(...std) } },
    },
    '/domains/{domain}/limits': {
      parameters: [domainP],
      get: {
        summary: "The domain's limits (most mailboxes, total quota) and what it uses of them",
        responses: { 200: ok(null), ...errors(...std) },
      },
      put: {
        summary: "Set the domain's limits (operators only)",
        requestBody: body('DomainLimits'),
        responses: { 200: ok(null, 'changed'), ...errors(400, ...std, 409) },
      },
    },
  };
}
