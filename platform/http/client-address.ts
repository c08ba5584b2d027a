import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { signClaims, verifySignedClaims } from '../auth/identity.ts';

/** The header in which the gateway tells subgraphs the client's address, signed. */
export const CLIENT_ADDRESS_HEADER = 'x-angelis-client-address';

export interface ClientAddressTrust {
  /** Take the first `x-forwarded-for` hop: only behind a proxy that sets it (and strips what clients send). */
  trustProxy: boolean;
  /**
   * A subgraph's: the gateway-subgraph secret (ANGELIS_IDENTITY_SECRET). An address the
   * gateway signed with it comes first. The gateway itself, facing clients, passes none.
   */
  gatewaySecret?: string;
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/** The header value the gateway sends a subgraph for a client's address: the address and a timestamp, HMAC-signed. */
export function signClientAddress(address: string, secret: string, now = Date.now()): string {
  return signClaims({ addr: address }, secret, now);
}

/** The address in a header signed by the gateway, or null when it is missing, forged or stale. */
function signedAddress(req: IncomingMessage, secret: string): string | null {
  const header = firstHeader(req, CLIENT_ADDRESS_HEADER);
  if (!header) return null;
  try {
    const { addr } = verifySignedClaims(header, secret, 'client address');
    return typeof addr === 'string' && isIP(addr) ? addr : null;
  } catch {
    // Not the gateway's word: fall back to what we can see ourselves.
    return null;
  }
}

/**
 * The client's address: the one the gateway signed (subgraphs), else the first
 * `x-forwarded-for` hop when a trusted proxy sets it, else the socket's. Anyone who reaches
 * a service can send X-Forwarded-For, so it is never believed by default.
 */
export function clientAddress(req: IncomingMessage, trust: ClientAddressTrust): string | null {
  if (trust.gatewaySecret) {
    const signed = signedAddress(req, trust.gatewaySecret);
    if (signed) return signed;
  }
  if (trust.trustProxy) {
    const first = firstHeader(req, 'x-forwarded-for')?.split(',')[0]?.trim();
    if (first && isIP(first)) return first;
  }
  return req.socket.remoteAddress ?? null;
}
