/** Who is calling, as resolved from a token or an OIDC JWT. */
export interface Principal {
  id: number;
  name: string;
  kind: 'user' | 'service';
  isAdmin: boolean;
  /** Local groups plus groups mapped from the OIDC groups claim. */
  groupIds: number[];
  tokenId?: string;
}

/** What a service call knows of its caller. */
export interface Ctx {
  principal: Principal;
  requestId: string;
}

/** The server acting on its own behalf (bootstrap, controllers). */
export function systemCtx(requestId = 'system'): Ctx {
  return { principal: { id: 0, name: 'system', kind: 'service', isAdmin: true, groupIds: [] }, requestId };
}
