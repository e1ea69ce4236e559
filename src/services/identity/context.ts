/** Who is asking: the same shape whichever way they signed in (a base-app token, login, a billing page session). */
export interface RequestContext {
  userId: string;
  orgId: string;
  email: string;
  isAdmin: boolean;
}
