/** The alias and list member imports in the OpenAPI document (openapi.ts composes them; api/address-import.ts). */
import type { z } from 'zod';
import { aliasImportBody, memberImportBody } from './api/address-import.js';

type Json = Record<string, unknown>;

export const ADDRESS_IMPORT_SCHEMAS: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  ImportAliases: { schema: aliasImportBody, io: 'input' },
  ImportListMembers: { schema: memberImportBody, io: 'input' },
};

/** The paths, built with openapi.ts's helpers (passed in: they are local to it). */
export function addressImportPaths(h: {
  ok: (name: string | null, description?: string) => Json;
  errors: (...codes: number[]) => Json;
  body: (name: string) => Json;
  domainP: Json;
  std: number[];
}): Json {
  const { ok, errors, body, domainP, std } = h;
  const listP = {
    name: 'address',
    in: 'path',
    required: true,
    description: 'the list address',
    schema: { type: 'string' },
  };
  return {
    '/domains/{domain}/aliases/import': {
      parameters: [domainP],
      post: {
        summary:
          'Import manual aliases (rows of address and targets, or CSV with columns address,target): every row or none; 422 lists the rows with errors',
        requestBody: body('ImportAliases'),
        responses: { 201: ok(null, 'imported'), 200: ok(null, 'dry run'), ...errors(400, ...std) },
      },
    },
    '/domains/{domain}/mailing-lists/{address}/members/import': {
      parameters: [domainP, listP],
      post: {
        summary:
          'Add members to a built-in list (addresses, or CSV with the column address): every row or none; 422 lists the rows with errors',
        requestBody: body('ImportListMembers'),
        responses: { 201: ok(null, 'imported'), 200: ok(null, 'dry run'), ...errors(400, ...std) },
      },
    },
    '/domains/{domain}/mailing-lists/{address}/members.csv': {
      parameters: [domainP, listP],
      get: {
        summary: "A built-in list's members as CSV (the import's column)",
        responses: {
          200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...errors(...std),
        },
      },
    },
  };
}
