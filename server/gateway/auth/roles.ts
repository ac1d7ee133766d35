import { ROLES, type Role } from '../../../shared/api-types.ts';

export { ROLES, type Role };

/** read < write < admin: a token may do what its role and every lesser role may. */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
