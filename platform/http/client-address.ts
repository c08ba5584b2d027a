import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the first `x-forwarded-for` hop when the hop before us is trusted
 * to set it (a proxy in front of the gateway; the gateway in front of a subgraph), else the
 * socket's. A forwarded value that is not an IP address is ignored.
 */
export function clientAddress(req: IncomingMessage, trustForwarded: boolean): string | null {
  const raw = trustForwarded ? req.headers['x-forwarded-for'] : undefined;
  const first = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]?.trim();
  const address = first && /^[0-9a-fA-F.:]{2,45}$/.test(first) ? first : req.socket.remoteAddress;
  return address ?? null;
}
