import { API_ROUTES, guestGrantRequest } from '@sandbox-terminal/protocol';
import { RelayAuth } from '../auth.ts';
import { RelayError } from '../errors.ts';
import type { RouteContext, RouteRegistrar } from './api-routes.ts';
import { clientAddress } from './client-address.ts';
import { sendJson } from './http-io.ts';
import { readJson } from './json-body.ts';

function guestService(ctx: RouteContext) {
  if (!ctx.guests) throw new RelayError('GUEST_MODE_OFF', 'this relay does not hand out guest sandboxes (start it with --guest)');
  return ctx.guests;
}

/**
 * Guest mode: both routes take no access token. A grant names no sandbox (the relay picks a fresh one); a renewal
 * carries its renewal token as the bearer token and can only ever name the sandbox inside it.
 */
export function registerGuestRoutes(route: RouteRegistrar): void {
  route('POST', API_ROUTES.guestGrants, 'public', async (ctx, request, response) => {
    const guests = guestService(ctx);
    const body = await readJson(request, guestGrantRequest, { bytes: ctx.limits.jsonBodyBytes, values: ctx.limits.jsonBodyValues });
    sendJson(response, 201, await guests.grant(clientAddress(request, ctx.trustProxy), body.template));
  });

  route('POST', API_ROUTES.guestToken, 'public', async (ctx, request, response) => {
    sendJson(response, 200, await guestService(ctx).renew(RelayAuth.httpToken(request)));
  });
}
