/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The admin web UI and JSON API: one Hono app, server-rendered with hono/jsx (no client JavaScript).
 *
 * Global, in this order: the IP allow-list, security headers (a CSP with no scripts at all), the client
 * address, the session (signed cookie → server-side table), CSRF (origin check + per-session token) for
 * every form POST; then one sub-app per resource; errors rendered in the one `onError` below.
 */
import { DirectoryError } from '@delegato/directory';
import { logEvent, logEventAt } from '@delegato/observability';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { ipRestriction } from 'hono/ip-restriction';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { apiActorOf, apiError, apiErrorFromException, apiRoutes } from './api/index.js';
import { ADMIN_CSS } from './assets.js';
import { principalActor } from './auth-events.js';
import { requireCsrfToken } from './csrf.js';
import { dnsRoutes } from './dns/routes.js';
import { type AdminOptions, type AppEnv, type Deps, resolveDeps } from './env.js';
import { directoryStatus, statusTitle } from './errors.js';
import { gatewayApi } from './gateway/api.js';
import { gatewayRoutes } from './gateway/routes.js';
import type { Ctx } from './guard.js';
import { tr } from './i18n/index.js';
import { languageMiddleware, languageRoutes } from './i18n/middleware.js';
import { operationsApi } from './operations/api.js';
import { operationsRoutes } from './operations/routes.js';
import { render } from './render.js';
import { addressImportRoutes } from './routes/address-import.js';
import { adminDomainRoutes } from './routes/admin-domains.js';
import { adminRoutes } from './routes/admins.js';
import { aliasRoutes } from './routes/aliases.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { bulkRoutes } from './routes/bulk.js';
import { domainLimitRoutes } from './routes/domain-limits.js';
import { domainRoutes } from './routes/domains.js';
import { forwardRoutes } from './routes/forwards.js';
import { helpRoutes } from './routes/help.js';
import { homeRoutes } from './routes/home.js';
import { listRoutes } from './routes/lists.js';
import { mailboxEditRoutes } from './routes/mailbox-edit.js';
import { mailboxRoutes } from './routes/mailboxes.js';
import { meRoutes } from './routes/me.js';
import { queueRoutes } from './routes/queue.js';
import { regionRoutes } from './routes/regions.js';
import { SESSION_COOKIE } from './session.js';
import { ErrorPage } from './views/error.js';

const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;
/** POSTs that are sign-in or sign-out (logged as such), not actions. */
const NOT_ACTIONS = new Set(['/login', '/login/totp', '/logout', '/api/v1/tokens', '/api/v1/tokens/current']);
const isApi = (path: string) => path === '/api/v1' || path.startsWith('/api/');

export function adminApp(
  opts: AdminOptions & { logError?: (err: unknown) => void },
): Hono<AppEnv> & { deps: Deps; close: () => Promise<void> } {
  const deps = resolveDeps(opts);
  const logError =
    opts.logError ??
    (opts.logger
      ? (err: unknown) => logEventAt(deps.log, 'error', 'admin.error', { err }, 'admin: unexpected error')
      : (err: unknown) => console.error('admin: unexpected error', err));
  const app = new Hono<AppEnv>();

  if (opts.allowedNetworks && opts.allowedNetworks.length > 0) {
    app.use(
      '*',
      ipRestriction(
        (c) => deps.clientAddress(c),
        { allowList: opts.allowedNetworks },
        (_remote, c) => c.text('Forbidden: this address may not use the administration interface.', 403),
      ),
    );
  }
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'same-origin',
      strictTransportSecurity: 'max-age=31536000',
    }),
  );
  app.use('*', async (c, next) => {
    c.set('clientIp', deps.clientAddress(c));
    c.set('clientCert', deps.clientCertificate(c));
    c.set('session', null);
    await next();
  });
  // What an admin changed, once it succeeded: `admin.action` (who, method, path, status; never a body).
  // Sign-in and sign-out have their own events; the directory's audit log has the details.
  app.use('*', async (c, next) => {
    await next();
    if (SAFE_METHOD.test(c.req.method) || NOT_ACTIONS.has(c.req.path) || c.res.status >= 400) return;
    const api = apiActorOf(c);
    const principal = c.get('session')?.principal;
    const actor = api
      ? `${api.kind}:${api.name}`
      : principal
        ? (await principalActor(deps, principal)).actor
        : null;
    if (actor === null) return;
    logEvent(deps.log, 'admin.action', {
      actor,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      client: c.get('clientIp'),
    });
  });
  const originCheck = csrf();
  app.use('*', async (c, next) => {
    if (isApi(c.req.path)) return next();
    c.set('session', await deps.sessions.get(getCookie(c, SESSION_COOKIE)));
    if (SAFE_METHOD.test(c.req.method)) return next();
    let originOk = false;
    try {
      await originCheck(c, async () => {
        originOk = true;
        await requireCsrfToken(c, c.get('session'));
        await next();
      });
    } catch (err) {
      if (!originOk && err instanceof HTTPException) {
        throw new HTTPException(403, {
          message: 'This form did not come from this site, so it was not accepted.',
        });
      }
      throw err;
    }
  });

  const language = languageMiddleware(deps);
  app.use('*', async (c, next) => (isApi(c.req.path) ? next() : language(c, next)));

  app.get('/assets/admin.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(ADMIN_CSS);
  });

  app.route('/api/v1', gatewayApi(deps, opts.gatewayUsage));
  app.route('/api/v1', apiRoutes(deps));
  app.route('/', languageRoutes(deps));
  app.route('/', authRoutes(deps));
  app.route('/', homeRoutes(deps));
  app.route('/', helpRoutes(deps));
  app.route('/', meRoutes(deps));
  app.route('/', domainRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.route('/', adminDomainRoutes(deps));
  app.route('/', domainLimitRoutes(deps));
  app.route('/', regionRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', queueRoutes(deps));
  app.route('/', mailboxRoutes(deps));
  app.route('/', mailboxEditRoutes(deps));
  app.route('/', bulkRoutes(deps));
  app.route('/', addressImportRoutes(deps));
  app.route('/', forwardRoutes(deps));
  app.route('/', aliasRoutes(deps));
  app.route('/', listRoutes(deps));
  app.route('/', gatewayRoutes(deps, opts.gatewayUsage));
  if (opts.dnsRecords) app.route('/', dnsRoutes(deps, opts.dnsRecords));
  if (opts.operations) {
    app.route('/', operationsRoutes(deps, opts.operations));
    app.route('/api/v1', operationsApi(deps, opts.operations));
  }

  app.notFound((c) => {
    if (isApi(c.req.path)) return apiError(c, 404, 'not-found', 'no such endpoint');
    return errorPage(c, deps, 404, tr(c)('error.notFoundPage'));
  });

  app.onError((err, c) => {
    if (isApi(c.req.path)) return apiErrorFromException(c, err, logError);
    if (err instanceof HTTPException) {
      if (err.res) return err.getResponse();
      return errorPage(c, deps, err.status as ContentfulStatusCode, err.message || statusTitle(err.status));
    }
    if (err instanceof DirectoryError) return errorPage(c, deps, directoryStatus(err), err.message);
    logError(err);
    return errorPage(c, deps, 500, tr(c)('error.unexpected'));
  });

  // Closes the session and token database (the appliance's shutdown; tests restarting the app).
  return Object.assign(app, { deps, close: () => deps.state.close() });
}

async function errorPage(
  c: Ctx,
  deps: Deps,
  status: ContentfulStatusCode,
  message: string,
): Promise<Response> {
  const title = statusTitle(status);
  const body = <ErrorPage title={title} message={message} status={status} />;
  try {
    return await render(c, deps, { title, help: 'index' }, body, status);
  } catch {
    // The frame itself failed (the directory is down): the page without navigation.
    c.set('session', null);
    return render(c, deps, { title, help: 'index' }, body, status);
  }
}
