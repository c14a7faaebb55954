import type { CurrentAdmin } from 'adminjs';

/** What the admin session keeps about the signed-in staff member; never a password or its hash. */
export interface StaffAdmin extends CurrentAdmin {
  id: string;
  email: string;
  title: string;
  isSuperuser: boolean;
}

export function isSuperuser({ currentAdmin }: { currentAdmin?: CurrentAdmin }): boolean {
  return Boolean((currentAdmin as StaffAdmin | undefined)?.isSuperuser);
}
