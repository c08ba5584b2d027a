import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT, type JWK } from 'jose';
import { claimsOf, type Identity } from '../../../platform/auth/identity.ts';
import type { Db } from '../../../platform/postgres/pool.ts';
import { publishedKeys, signingKeyAt, type NewKey } from '../domain/signing-keys.ts';
import { readModel, type SigningKeyRow } from '../store/read-model.ts';
import type { CiamSecrets } from './secrets.ts';

export const JWT_ALG = 'ES256';

export interface TokenOptions {
  issuer: string;
  audience: string;
  accessTokenTtlS: number;
  /** How long keys are cached in memory before the table is read again. */
  cacheMs?: number;
}

/**
 * Access tokens: ES256 JWTs with a `kid`, signed by the current key; the JWKS publishes
 * every key whose tokens may still be alive. Keys live in the CIAM database (private keys
 * encrypted), so every instance signs and publishes the same set.
 */
export class AccessTokens {
  private cache: { rows: SigningKeyRow[]; at: number } | null = null;
  private readonly privateKeys = new Map<string, CryptoKey>();

  private readonly db: Db;
  private readonly secrets: CiamSecrets;
  private readonly options: TokenOptions;

  constructor(
    db: Db,
    secrets: CiamSecrets,
    options: TokenOptions,
  ) {
    this.db = db;
    this.secrets = secrets;
    this.options = options;
  }

  /** A fresh key pair, ready for a SigningKeyCreated event. */
  async generateKey(): Promise<NewKey> {
    const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return { kid, alg: JWT_ALG, publicJwk: { ...jwk }, encryptedPrivateKey: this.secrets.encrypt(await exportPKCS8(privateKey)) };
  }

  /** Drops the cached key list (after a rotation). */
  invalidate(): void {
    this.cache = null;
  }

  private async keys(): Promise<SigningKeyRow[]> {
    if (!this.cache || Date.now() - this.cache.at > (this.options.cacheMs ?? 30_000)) {
      this.cache = { rows: await readModel.signingKeys(this.db.pool), at: Date.now() };
    }
    return this.cache.rows;
  }

  /** Signs an access token for the identity: exactly the AccessTokenClaims plus iss/aud/iat/exp. */
  async sign(identity: Identity, now = new Date()): Promise<{ token: string; expiresAt: Date; kid: string }> {
    const key = signingKeyAt(await this.keys(), now);
    if (!key) throw new Error('no signing key: the service did not create one at start');
    let privateKey = this.privateKeys.get(key.kid);
    if (!privateKey) {
      privateKey = await importPKCS8(this.secrets.decrypt(key.encryptedPrivateKey), key.alg);
      this.privateKeys.set(key.kid, privateKey);
    }
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.options.accessTokenTtlS;
    const token = await new SignJWT({ ...claimsOf(identity) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
    return { token, expiresAt: new Date(exp * 1000), kid: key.kid };
  }

  /** The JSON Web Key Set verifiers fetch: public keys only. */
  async jwks(now = new Date()): Promise<{ keys: JWK[] }> {
    const published = publishedKeys(await this.keys(), now, this.options.accessTokenTtlS * 1000);
    return { keys: published.map((k) => ({ ...(k.publicJwk as JWK), kid: k.kid, alg: k.alg, use: 'sig' })) };
  }
}
