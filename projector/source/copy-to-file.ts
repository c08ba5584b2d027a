import { createWriteStream, type WriteStream } from 'node:fs';
import type pg from 'pg';

const STAGING_BYTES = 1 << 20;

/** What a COPY TO STDOUT produced: the row count PostgreSQL reported and the last line's bytes. */
export interface CopyResult {
  rows: number;
  lastLine: Buffer | undefined;
  bytes: number;
}

/**
 * A lean `COPY ... TO STDOUT` reader that streams PostgreSQL's CopyData messages straight
 * into a file, keeping only the tail of the last line: no per-row JavaScript. It plugs
 * into `pg` as a "submittable" (the same hook pg-copy-streams uses).
 */
class CopyToFile {
  callback?: (err: Error | null, result?: CopyResult) => void;
  private out: WriteStream;
  private rows = 0;
  private bytes = 0;
  private error: Error | undefined;
  private paused = false;
  private connection: { stream: { pause(): void; resume(): void } } | undefined;
  // pg hands out CopyData chunks as views of a buffer it reuses, so they are copied into
  // our own staging buffer (one memcpy each) before the file stream may hold on to them.
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private used = 0;
  private lastStart = -1;
  private lastLine: Buffer | undefined;

  constructor(private readonly text: string, file: string) {
    this.out = createWriteStream(file);
    this.out.on('error', (err) => (this.error ??= err));
    this.out.on('drain', () => {
      if (this.paused) {
        this.paused = false;
        this.connection?.stream.resume();
      }
    });
  }

  submit(connection: { query(text: string): void; stream: { pause(): void; resume(): void } }): void {
    this.connection = connection;
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    const chunk = message.chunk;
    this.bytes += chunk.length;
    // PostgreSQL sends one CopyData message per row, so the last chunk is the last line.
    if (this.used + chunk.length > this.staging.length) this.flush();
    if (chunk.length > this.staging.length) {
      this.lastLine = Buffer.from(chunk);
      this.lastStart = -1;
      this.write(this.lastLine);
      return;
    }
    chunk.copy(this.staging, this.used);
    this.lastStart = this.used;
    this.used += chunk.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    const full = this.staging.subarray(0, this.used);
    if (this.lastStart >= 0) this.lastLine = full.subarray(this.lastStart);
    this.lastStart = -1;
    this.staging = Buffer.allocUnsafe(STAGING_BYTES);
    this.used = 0;
    this.write(full);
  }

  private write(buffer: Buffer): void {
    // Back-pressure: stop reading the socket while the file is behind.
    if (!this.out.write(buffer) && !this.paused) {
      this.paused = true;
      this.connection?.stream.pause();
    }
  }

  handleCommandComplete(message: { text: string }): void {
    this.rows = Number(/COPY (\d+)/.exec(message.text)?.[1] ?? 0);
  }

  handleError(err: Error): void {
    this.error ??= err;
  }

  handleReadyForQuery(): void {
    this.flush();
    if (this.paused) this.connection?.stream.resume();
    this.out.end(() => {
      this.callback?.(this.error ?? null, this.error ? undefined : { rows: this.rows, lastLine: this.lastLine, bytes: this.bytes });
    });
  }

  // pg calls these for any query; a COPY TO never triggers them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

/** Runs `COPY (...) TO STDOUT` on `client` and writes its output to `file`. */
export function copyToFile(client: pg.ClientBase, copySql: string, file: string): Promise<CopyResult> {
  return new Promise((resolve, reject) => {
    const copy = new CopyToFile(copySql, file);
    copy.callback = (err, result) => (err ? reject(err) : resolve(result!));
    client.query(copy as unknown as pg.QueryConfig);
  });
}
