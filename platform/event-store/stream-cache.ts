/** An aggregate's state as of a stream version. */
export interface StreamState<S = unknown> {
  state: S;
  version: number;
}

/**
 * Aggregate states by stream, least recently used dropped first. Only a hint: the append's
 * version check makes a stale entry harmless (the command is re-decided on a fresh read).
 */
export class StreamStateCache {
  private readonly entries = new Map<string, StreamState>();

  private readonly capacity;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  get<S>(streamId: string): StreamState<S> | undefined {
    return this.entries.get(streamId) as StreamState<S> | undefined;
  }

  set(streamId: string, entry: StreamState): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  clear(): void {
    this.entries.clear();
  }
}
