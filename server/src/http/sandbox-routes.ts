import { apiPaths, createSandboxRequest } from '@sandbox-terminal/protocol';
import type { RouteRegistrar } from './api-routes.ts';
import { readJson, sendJson } from './http-io.ts';

/** The route pattern of an `apiPaths` entry (ids become `:id`), so these paths are declared once, in the protocol. */
const SANDBOX_PATH = apiPaths.sandbox(':id').replace('%3Aid', ':id');

/** Whole sandboxes: `PUT` prepares one (from a template), `DELETE` resets it (stops it, deletes its workspace and sessions). */
export function registerSandboxRoutes(route: RouteRegistrar): void {
  route('PUT', SANDBOX_PATH, 'admin', async (ctx, request, response, [sandboxId]) => {
    const body = await readJson(request, createSandboxRequest, ctx.limits.jsonBodyBytes);
    const result = await ctx.lifecycle.prepare(sandboxId!, body.template);
    sendJson(response, result.created ? 201 : 200, result);
  });

  route('DELETE', SANDBOX_PATH, 'owner', async (ctx, _request, response, [sandboxId]) => {
    await ctx.lifecycle.delete(sandboxId!);
    response.writeHead(204).end();
  });
}
