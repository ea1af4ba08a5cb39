export * from './errors.ts';
export * from './terminal.ts';
export * from './api.ts';
export * from './auth.ts';
