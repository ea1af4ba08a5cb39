export * from './errors.ts';
export * from './terminal.ts';
export * from './terminal-schemas.ts';
export * from './api.ts';
export * from './api-schemas.ts';
export * from './auth.ts';
export * from './auth-schemas.ts';
