/** Built-in lists' part of the OpenAPI description (openapi.ts merges it; routes: api/mailing-lists.ts). */
import type { z } from 'zod';
import {
  apiHeldPost,
  apiHeldPostText,
  apiList,
  apiListCreate,
  apiListMembers,
  apiListSettings,
} from './list-schemas.js';

type Json = Record<string, unknown>;

export const LIST_SCHEMAS: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  MailingList: { schema: apiList, io: 'output' },
  NewMailingList: { schema: apiListCreate, io: 'input' },
  ListMembers: { schema: apiListMembers, io: 'input' },
  ListSettings: { schema: apiListSettings, io: 'input' },
  HeldPost: { schema: apiHeldPost, io: 'output' },
  HeldPostText: { schema: apiHeldPostText, io: 'output' },
};

/** The paths, built with openapi.ts's helpers (passed in: they are local to it). */
export function listPaths(h: {
  ok: (name: string | null, description?: string, array?: boolean) => Json;
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
  const idP = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'a held post (list pending)',
    schema: { type: 'string' },
  };
  const base = '/domains/{domain}/mailing-lists';
  const decide = (verb: 'approve' | 'reject', what: string): Json => ({
    [`${base}/{address}/pending/{id}/${verb}`]: {
      parameters: [domainP, listP, idP],
      post: { summary: what, responses: { 200: ok('HeldPost', 'decided'), ...errors(...std) } },
    },
  });
  return {
    [base]: {
      parameters: [domainP],
      get: {
        summary: 'List the built-in mailing lists',
        responses: { 200: ok('MailingList', 'OK', true), ...errors(...std) },
      },
      post: {
        summary: 'Create a built-in list (owner: a mailbox of the domain)',
        requestBody: body('NewMailingList'),
        responses: { 201: ok('MailingList', 'created'), ...errors(400, ...std, 409) },
      },
    },
    [`${base}/{address}`]: {
      parameters: [domainP, listP],
      get: {
        summary: 'A built-in list with its members',
        responses: { 200: ok('MailingList'), ...errors(...std) },
      },
      delete: {
        summary: 'Remove a built-in list',
        responses: { 200: ok(null, 'removed'), ...errors(...std) },
      },
    },
    [`${base}/{address}/settings`]: {
      parameters: [domainP, listP],
      put: {
        summary: 'Set the owner, who may post, and moderation',
        requestBody: body('ListSettings'),
        responses: { 200: ok('MailingList', 'changed'), ...errors(400, ...std) },
      },
    },
    [`${base}/{address}/members`]: {
      parameters: [domainP, listP],
      post: {
        summary: 'Add and/or remove members',
        requestBody: body('ListMembers'),
        responses: { 200: ok('MailingList', 'changed'), ...errors(400, ...std) },
      },
    },
    [`${base}/{address}/pending`]: {
      parameters: [domainP, listP],
      get: {
        summary: 'The posts held for moderation',
        responses: { 200: ok('HeldPost', 'OK', true), ...errors(...std) },
      },
    },
    [`${base}/{address}/pending/{id}`]: {
      parameters: [domainP, listP, idP],
      get: {
        summary: 'A held post as text only (header fields, text, attachment names)',
        responses: { 200: ok('HeldPostText'), ...errors(...std) },
      },
    },
    ...decide('approve', 'Approve a held post: it goes to the members'),
    ...decide('reject', 'Reject a held post: its sender gets a notice'),
  };
}
