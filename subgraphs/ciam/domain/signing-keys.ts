import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';

/**
 * The signing keys (stream `signing-keys`): one stream so that two instances deciding a
 * rotation at once conflict, and the loser sees the winner's key instead of adding another.
 */

export interface KeyInfo {
  kid: string;
  createdAt: Date;
  activatesAt: Date;
}

export interface SigningKeysState {
  keys: KeyInfo[];
}

export const SIGNING_KEYS_STREAM = 'signing-keys';

export const signingKeys = {
  initialState: (): SigningKeysState => ({ keys: [] }),
  evolve(state: SigningKeysState, event: RecordedEvent<CiamEvent>): SigningKeysState {
    const e = event as unknown as CiamEvent;
    if (e.type !== 'SigningKeyCreated') return state;
    return { keys: [...state.keys, { kid: e.data.kid, createdAt: event.occurredAt, activatesAt: new Date(e.data.activatesAt) }] };
  },
};

export interface NewKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  encryptedPrivateKey: string;
}

/** A new key when there is none, when the newest is older than `rotationMs`, or when forced. */
export function decideRotation(
  state: SigningKeysState,
  cmd: { now: Date; rotationMs: number; activationDelayMs: number; force: boolean; key: NewKey },
): CiamEvent[] {
  const newest = state.keys[state.keys.length - 1];
  if (newest && !cmd.force && cmd.now.getTime() - newest.createdAt.getTime() < cmd.rotationMs) return [];
  // The very first key signs at once; a later one waits so every verifier sees it in the JWKS first.
  const activatesAt = new Date(cmd.now.getTime() + (newest ? cmd.activationDelayMs : 0)).toISOString();
  return [{ type: 'SigningKeyCreated', data: { ...cmd.key, activatesAt } }];
}

/** The key that signs at `now`: the newest active one. */
export function signingKeyAt<K extends { activatesAt: Date }>(keys: K[], now: Date): K | undefined {
  let chosen: K | undefined;
  for (const k of keys) if (k.activatesAt.getTime() <= now.getTime()) chosen = k;
  return chosen ?? keys[0];
}

/**
 * Keys to publish at `now`: every key not yet retired. A key retires once the key after it
 * has signed for longer than a token lives (plus clock skew), so no valid token loses its key.
 */
export function publishedKeys<K extends { activatesAt: Date }>(keys: K[], now: Date, tokenTtlMs: number, skewMs = 60_000): K[] {
  return keys.filter((k, i) => {
    const next = keys[i + 1];
    return !next || next.activatesAt.getTime() + tokenTtlMs + skewMs > now.getTime();
  });
}
