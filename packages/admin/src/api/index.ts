/**
 * The JSON API under /api/v1: the same operations as the pages, through the same directory calls with
 * the same Actor (built fresh from the directory for every request), so the same permission checks.
 * One module per resource, as the UI's `routes/`; this file only composes them.
 *
 * Authentication: `POST /api/v1/tokens` with an admin's username and password (and TOTP code, for admins
 * who have two-step sign-in) returns a bearer token; every other call sends `Authorization: Bearer <token>`
 * and starts with `apiActor` (common.ts). Described by `GET /api/v1/openapi.json` (no token needed).
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { openApiDocument } from '../openapi.js';
import { addressImportApi } from './address-import.js';
import { adminApi } from './admins.js';
import { aliasApi } from './aliases.js';
import { auditApi } from './audit.js';
import { tokenApi } from './auth.js';
import { domainApi } from './domains.js';
import { forwardApi } from './forwards.js';
import { listApi } from './lists.js';
import { mailboxBulkApi } from './mailbox-bulk.js';
import { mailboxApi } from './mailboxes.js';
import { regionApi } from './regions.js';

export { apiActorOf, apiError, apiErrorFromException } from './common.js';

export function apiRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/', tokenApi(deps));
  app.route('/', regionApi(deps));
  app.route('/', domainApi(deps));
  app.route('/', adminApi(deps));
  app.route('/', auditApi(deps));
  app.route('/', mailboxApi(deps));
  app.route('/', mailboxBulkApi(deps));
  app.route('/', addressImportApi(deps));
  app.route('/', aliasApi(deps));
  app.route('/', forwardApi(deps));
  app.route('/', listApi(deps));
  return app;
}
