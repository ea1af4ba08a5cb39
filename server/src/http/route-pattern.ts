import { RelayError } from '../errors.ts';

/**
 * A route template from `API_ROUTES` (`/v1/sandboxes/:sandbox/sessions/:session`) as a regular expression with one
 * capture group per `:name` segment, in order. Captures are still URL-encoded: `decodePathSegment` them.
 */
export function routePattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** A path segment as the client meant it; a malformed %-escape is the client's error, not ours. */
export function decodePathSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RelayError('BAD_REQUEST', `malformed percent-escape in path segment ${JSON.stringify(value).slice(0, 80)}`);
  }
}
