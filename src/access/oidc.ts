import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { Unauthenticated } from '../shared/errors.js';

export interface OidcConfig {
  issuer: string;
  jwksUrl: string;
  audience?: string;
  usernameClaim: string;
  groupsClaim: string;
}

export interface OidcIdentity {
  username: string;
  groups: string[];
}

/** Verifies bearer JWTs against an issuer's JWKS (keys fetched and cached by jose). */
export class OidcVerifier {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;
  constructor(private readonly cfg: OidcConfig) {
    this.#jwks = createRemoteJWKSet(new URL(cfg.jwksUrl));
  }

  async verify(jwt: string): Promise<OidcIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.#jwks, { issuer: this.cfg.issuer, audience: this.cfg.audience }));
    } catch (e) {
      throw new Unauthenticated(`invalid OIDC token: ${(e as Error).message}`);
    }
    const username = payload[this.cfg.usernameClaim] ?? payload.sub;
    if (typeof username !== 'string' || !username) throw new Unauthenticated(`OIDC token has no '${this.cfg.usernameClaim}' or 'sub' claim`);
    const raw = payload[this.cfg.groupsClaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
    return { username, groups };
  }
}
