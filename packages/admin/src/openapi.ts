/**
 * The OpenAPI 3.1 description of /api/v1, written by hand for the paths and generated from the zod
 * schemas (schemas.ts) for the bodies, so the two cannot drift apart.
 */
import { z } from 'zod';
import { ADDRESS_IMPORT_SCHEMAS, addressImportPaths } from './address-import-openapi.js';
import { GATEWAY_SCHEMAS, gatewayPaths } from './gateway/openapi.js';
import { LIST_SCHEMAS, listPaths } from './list-openapi.js';
import { MAILBOX_BULK_SCHEMAS, mailboxBulkPaths } from './mailbox-bulk-openapi.js';
import * as s from './schemas.js';

type Json = Record<string, unknown>;

const schemas: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  Error: { schema: s.apiError, io: 'output' },
  TokenRequest: { schema: s.apiTokenRequest, io: 'input' },
  Token: { schema: s.apiTokenResponse, io: 'output' },
  Region: { schema: s.apiRegion, io: 'output' },
  Domain: { schema: s.apiDomain, io: 'output' },
  NewDomain: { schema: s.apiNewDomain, io: 'input' },
  Admin: { schema: s.apiAdmin, io: 'output' },
  NewAdmin: { schema: s.apiNewAdmin, io: 'input' },
  AdminAccess: { schema: s.apiAdminAccess, io: 'input' },
  AuditEntry: { schema: s.apiAudit, io: 'output' },
  Mailbox: { schema: s.apiMailbox, io: 'output' },
  MailboxList: { schema: s.apiMailboxList, io: 'output' },
  MailboxDetail: { schema: s.apiMailboxDetail, io: 'output' },
  NewMailbox: { schema: s.apiNewMailbox, io: 'input' },
  CreatedMailbox: { schema: s.apiCreatedMailbox, io: 'output' },
  Alias: { schema: s.apiAlias, io: 'output' },
  NewAlias: { schema: s.apiNewAlias, io: 'input' },
  NewForward: { schema: s.apiNewForward, io: 'input' },
  NewList: { schema: s.apiNewList, io: 'input' },
  SetPassword: { schema: s.apiSetPassword, io: 'input' },
  SetExpiry: { schema: s.apiSetExpiry, io: 'input' },
  ...GATEWAY_SCHEMAS,
  ...LIST_SCHEMAS,
  ...MAILBOX_BULK_SCHEMAS,
  ...ADDRESS_IMPORT_SCHEMAS,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
const ok = (name: string | null, description = 'OK', array = false): Json =>
  name ? { description, ...json(array ? { type: 'array', items: ref(name) } : ref(name)) } : { description };
const errors = (...codes: number[]): Json =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description:
          {
            400: 'invalid input (`error.fields` names the fields)',
            401: 'no valid bearer token',
            403: 'the admin may not do this (not an operator, or not one of their domains)',
            404: 'no such domain, mailbox, alias or admin',
            409: 'duplicate, or contradicts the current state',
            429: 'too many failed attempts',
          }[code] ?? 'error',
        ...json(ref('Error')),
      },
    ]),
  );
const body = (name: string) => ({ required: true, ...json(ref(name)) });
const param = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const query = (name: string, description: string, type = 'string') => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type },
});
const domainP = param('domain', 'a hosted domain, e.g. iat.example.org');
const addressP = param('address', 'an address in that domain');
const std = [401, 403, 404];

let cached: Json | null = null;

export function openApiDocument(): Json {
  if (cached) return cached;
  const components = Object.fromEntries(
    Object.entries(schemas).map(([name, { schema, io }]) => {
      const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
      return [name, rest];
    }),
  );
  const section = (kind: 'aliases' | 'forwards' | 'lists', newName: string, summary: string): Json => ({
    [`/domains/{domain}/${kind}`]: {
      parameters: [domainP],
      get: { summary: `List ${summary}`, responses: { 200: ok('Alias', 'OK', true), ...errors(...std) } },
      post: {
        summary: `Add ${summary.replace(/s$/, '').replace(/ie$/, 'y')}`,
        requestBody: body(newName),
        responses: { 201: ok('Alias', 'created'), ...errors(400, ...std, 409) },
      },
    },
    [`/domains/{domain}/${kind}/{address}`]: {
      parameters: [domainP, addressP],
      delete: {
        summary: `Remove one of the ${summary}`,
        responses: { 200: ok(null, 'removed'), ...errors(...std) },
      },
    },
  });
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Delegato administration API',
      version: '1',
      description:
        'The operations of the admin web UI, with the same permission checks: operators manage domains, ' +
        'administrators and regions; domain administrators only their own domains. Get a token with ' +
        '`POST /tokens`, then send `Authorization: Bearer <token>`. Tokens live 12 hours, in the memory of ' +
        'the appliance that issued them.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: components,
    },
    paths: {
      '/tokens': {
        post: {
          summary: 'Get a token for an administrator',
          security: [],
          requestBody: body('TokenRequest'),
          responses: { 201: ok('Token', 'issued'), ...errors(400, 401, 403, 429) },
        },
      },
      '/tokens/current': {
        delete: {
          summary: 'Revoke the token used',
          responses: { 204: { description: 'revoked' }, ...errors(401) },
        },
      },
      '/regions': {
        get: { summary: 'List regions', responses: { 200: ok('Region', 'OK', true), ...errors(401) } },
      },
      '/domains': {
        get: {
          summary: 'List the domains the admin may see',
          responses: { 200: ok('Domain', 'OK', true), ...errors(401) },
        },
        post: {
          summary: 'Add a domain (operators)',
          requestBody: body('NewDomain'),
          responses: { 201: ok(null, 'created'), ...errors(400, ...std, 409) },
        },
      },
      '/domains/{domain}': {
        parameters: [domainP],
        delete: {
          summary: 'Remove a domain (operators); `force=true` when it still has mailboxes',
          parameters: [query('force', 'remove it with all its mailboxes', 'boolean')],
          responses: { 200: ok(null, 'removed'), ...errors(...std, 409) },
        },
      },
      '/admins': {
        get: {
          summary: 'List administrators (operators)',
          responses: { 200: ok('Admin', 'OK', true), ...errors(401, 403) },
        },
        post: {
          summary: 'Add an administrator (operators)',
          requestBody: body('NewAdmin'),
          responses: { 201: ok('Admin', 'created'), ...errors(400, ...std, 409) },
        },
      },
      '/admins/{username}': {
        parameters: [param('username', 'the administrator')],
        get: {
          summary: 'One administrator, with their access restrictions (operators)',
          responses: { 200: ok('Admin'), ...errors(...std) },
        },
        delete: {
          summary: 'Remove an administrator (operators)',
          responses: { 200: ok(null, 'removed'), ...errors(...std, 409) },
        },
      },
      '/admins/{username}/access': {
        parameters: [param('username', 'the administrator')],
        put: {
          summary:
            "Set an administrator's allowed networks and pinned client certificate (operators only, their own included); an absent field is kept",
          requestBody: body('AdminAccess'),
          responses: { 200: ok('Admin', 'changed'), ...errors(400, ...std) },
        },
      },
      '/audit': {
        get: {
          summary: 'The audit log (operators; domain admins with `domain`)',
          parameters: [
            query('domain', 'only changes in this domain'),
            query('limit', 'at most this many', 'integer'),
          ],
          responses: { 200: ok('AuditEntry', 'OK', true), ...errors(...std) },
        },
      },
      '/stats': {
        get: {
          summary:
            'Per-domain daily statistics, `{ rows, unreachable }` (operators: every domain of every region; domain admins: their own domains)',
          parameters: [
            query('from', 'first day, YYYY-MM-DD (default 29 days before `to`)'),
            query('to', 'last day (default today)'),
          ],
          responses: {
            200: ok(null, 'rows (day, region, domain, counters) and the regions that did not answer'),
            ...errors(400, ...std),
          },
        },
      },
      '/domains/{domain}/stats': {
        parameters: [domainP],
        get: {
          summary: "One domain's daily statistics, `{ rows, unreachable }`",
          parameters: [query('from', 'first day, YYYY-MM-DD'), query('to', 'last day')],
          responses: { 200: ok(null, 'rows and the regions that did not answer'), ...errors(400, ...std) },
        },
      },
      '/domains/{domain}/mailboxes': {
        parameters: [domainP],
        get: {
          summary: 'List mailboxes',
          parameters: [
            query('q', 'search in addresses, usernames and names'),
            query('limit', 'page size', 'integer'),
            query('offset', 'skip this many', 'integer'),
          ],
          responses: { 200: ok('MailboxList'), ...errors(...std) },
        },
        post: {
          summary: 'Add a mailbox',
          requestBody: body('NewMailbox'),
          responses: { 201: ok('CreatedMailbox', 'created'), ...errors(400, ...std, 409) },
        },
      },
      '/domains/{domain}/mailboxes/{address}': {
        parameters: [domainP, addressP],
        get: {
          summary: 'A mailbox and the aliases that lead to it',
          responses: { 200: ok('MailboxDetail'), ...errors(...std) },
        },
        delete: {
          summary: 'Remove a mailbox (its mail kept for the retention period unless `purge=true`)',
          parameters: [query('purge', 'delete its mail now', 'boolean')],
          responses: { 200: ok(null, 'removed'), ...errors(...std, 409) },
        },
      },
      '/domains/{domain}/mailboxes/{address}/password': {
        parameters: [domainP, addressP],
        put: {
          summary: 'Set a new password',
          requestBody: body('SetPassword'),
          responses: { 200: ok(null, 'changed'), ...errors(400, ...std) },
        },
      },
      '/domains/{domain}/mailboxes/{address}/expiry': {
        parameters: [domainP, addressP],
        put: {
          summary: 'Set (or with null clear) the expiration date',
          requestBody: body('SetExpiry'),
          responses: { 200: ok(null, 'changed'), ...errors(400, ...std) },
        },
      },
      ...section('aliases', 'NewAlias', 'aliases'),
      ...section('forwards', 'NewForward', 'addresses for remote mailboxes'),
      ...section('lists', 'NewList', 'distribution-list aliases'),
      ...gatewayPaths({ ok, errors, body, domainP, std }),
      ...listPaths({ ok, errors, body, domainP, std }),
      ...mailboxBulkPaths({ ok, errors, body, domainP, addressP, std }),
      ...addressImportPaths({ ok, errors, body, domainP, std }),
    },
  };
  return cached;
}
