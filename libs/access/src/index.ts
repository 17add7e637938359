export * from './role';
export * from './api-keys';
