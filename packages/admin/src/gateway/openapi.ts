/** The attachment gateway's part of the OpenAPI description (openapi.ts merges it). */
import type { z } from 'zod';
import { apiGateway, apiGatewayRegistration, apiGatewayRules, apiGatewaySettings } from './schemas.js';

type Json = Record<string, unknown>;

export const GATEWAY_SCHEMAS: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  Gateway: { schema: apiGateway, io: 'output' },
  GatewayRules: { schema: apiGatewayRules, io: 'output' },
  GatewaySettings: { schema: apiGatewaySettings, io: 'input' },
  GatewayRegistration: { schema: apiGatewayRegistration, io: 'input' },
};

/** The paths, built with openapi.ts's helpers (passed in: they are local to it). */
export function gatewayPaths(h: {
  ok: (name: string | null, description?: string) => Json;
  errors: (...codes: number[]) => Json;
  body: (name: string) => Json;
  domainP: Json;
  std: number[];
}): Json {
  const { ok, errors, body, domainP, std } = h;
  return {
    '/domains/{domain}/gateway': {
      parameters: [domainP],
      get: {
        summary: 'The attachment gateway of a domain: rules, registrations, disk usage',
        responses: { 200: ok('Gateway'), ...errors(...std) },
      },
    },
    '/domains/{domain}/gateway/settings': {
      parameters: [domainP],
      put: {
        summary: 'Set the attachment gateway rules (threshold, media types, expiry, login)',
        requestBody: body('GatewaySettings'),
        responses: { 200: ok('GatewayRules', 'changed'), ...errors(400, ...std) },
      },
    },
    '/domains/{domain}/gateway/registrations': {
      parameters: [domainP],
      post: {
        summary: 'Register every mailbox of the domain, one mailbox, or a sender for the attachment gateway',
        requestBody: body('GatewayRegistration'),
        responses: { 201: ok(null, 'registered'), ...errors(400, ...std, 409) },
      },
      delete: {
        summary: 'Remove a registration (the same kind and target it was made with)',
        parameters: [
          {
            name: 'kind',
            in: 'query',
            required: true,
            schema: { type: 'string', enum: ['domain', 'mailbox', 'sender'] },
          },
          { name: 'target', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { 200: ok(null, 'removed'), ...errors(400, ...std) },
      },
    },
  };
}
