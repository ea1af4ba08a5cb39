import { API_ROUTES, createSandboxRequest } from '@sandbox-terminal/protocol';
import type { RouteRegistrar } from './api-routes.ts';
import { sendJson } from './http-io.ts';
import { readJson } from './json-body.ts';

/** Whole sandboxes: `PUT` prepares one (from a template), `DELETE` resets it (stops it, deletes its workspace and sessions). */
export function registerSandboxRoutes(route: RouteRegistrar): void {
  route('PUT', API_ROUTES.sandbox, 'admin', async (ctx, request, response, [sandboxId]) => {
    const body = await readJson(request, createSandboxRequest, { bytes: ctx.limits.jsonBodyBytes, values: ctx.limits.jsonBodyValues });
    const result = await ctx.lifecycle.prepare(sandboxId!, body.template);
    sendJson(response, result.created ? 201 : 200, result);
  });

  route('DELETE', API_ROUTES.sandbox, 'owner', async (ctx, _request, response, [sandboxId]) => {
    await ctx.lifecycle.delete(sandboxId!);
    response.writeHead(204).end();
  });
}
