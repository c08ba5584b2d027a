import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { signIdentity } from '../auth/identity.ts';
import { CLIENT_ADDRESS_HEADER, clientAddress, signClientAddress } from './client-address.ts';

const SECRET = 'client-address-test-secret-0123456789';
const SOCKET = '10.0.0.5';
const request = (headers: Record<string, string>) => ({ headers, socket: { remoteAddress: SOCKET } }) as unknown as IncomingMessage;
const subgraph = { gatewaySecret: SECRET, trustProxy: false };

describe('clientAddress', () => {
  it('a subgraph takes the address the gateway signed, over X-Forwarded-For and the socket', () => {
    const req = request({ [CLIENT_ADDRESS_HEADER]: signClientAddress('192.0.2.1', SECRET), 'x-forwarded-for': '198.51.100.1' });
    expect(clientAddress(req, subgraph)).toBe('192.0.2.1');
    expect(clientAddress(req, { ...subgraph, trustProxy: true })).toBe('192.0.2.1');
  });

  it('ignores an address signed with another secret, tampered with, stale, or not an address', () => {
    const tampered = signClientAddress('192.0.2.1', SECRET).replace(/^[^.]+/, Buffer.from(JSON.stringify({ addr: '192.0.2.99', iat: Math.floor(Date.now() / 1000) })).toString('base64url'));
    const headers = [
      signClientAddress('192.0.2.1', 'another-secret-0123456789-0123456789'),
      tampered,
      signClientAddress('192.0.2.1', SECRET, Date.now() - 5 * 60_000),
      signClientAddress('not-an-address', SECRET),
      // A signed identity is not a signed address.
      signIdentity({ userId: 'u', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's' }, SECRET),
    ];
    for (const header of headers) expect(clientAddress(request({ [CLIENT_ADDRESS_HEADER]: header }), subgraph)).toBe(SOCKET);
  });

  it('believes X-Forwarded-For only when told a proxy sets it, and only an IP address', () => {
    expect(clientAddress(request({ 'x-forwarded-for': '198.51.100.1, 10.0.0.1' }), { trustProxy: false })).toBe(SOCKET);
    expect(clientAddress(request({ 'x-forwarded-for': '198.51.100.1, 10.0.0.1' }), { trustProxy: true })).toBe('198.51.100.1');
    expect(clientAddress(request({ 'x-forwarded-for': '2001:db8::1' }), { trustProxy: true })).toBe('2001:db8::1');
    expect(clientAddress(request({ 'x-forwarded-for': 'evil; DROP' }), { trustProxy: true })).toBe(SOCKET);
  });

  it('the gateway, facing clients, never believes a signed address header', () => {
    const req = request({ [CLIENT_ADDRESS_HEADER]: signClientAddress('192.0.2.1', SECRET) });
    expect(clientAddress(req, { trustProxy: true })).toBe(SOCKET);
  });
});
