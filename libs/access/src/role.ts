/**
 * The roles an API key can hold: the one list the server's configuration, its access guard and the CLI's `keys`
 * commands check against. Free of Node and Nest, so that the web console can import the type as well.
 */
export type Role = 'service' | 'admin' | 'auditor' | 'finance';
export const ROLES: readonly Role[] = ['service', 'admin', 'auditor', 'finance'];
