import type http from 'node:http';
import type { AccessTokens } from './auth/signing-keys.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

/** GET/HEAD /.well-known/jwks.json: the public keys that verify CIAM's access tokens. */
export function jwksRoute(tokens: Pick<AccessTokens, 'jwks'>) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return void res.end();
    }
    const body = JSON.stringify(await tokens.jwks());
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
