import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import type pg from 'pg';
import { CopyFramedSocket, type CopyDataSink } from './copy-frames.ts';

const STAGING_BYTES = 1 << 20;
/** Staging buffers are reused once written (a batch goes through dozens): at most this many kept. */
const STAGING_POOL = 4;
const stagingPool: Buffer[] = [];
/** Reads smaller than this mean the socket is being drained as fast as PostgreSQL fills it. */
const NAP_BELOW = 48 * 1024;
const NAP_MS = 1;
// Why the socket is paused: the file is behind, or we wait for more rows to arrive.
const HOLD_FILE = 1;
const HOLD_NAP = 2;

/** What a COPY TO STDOUT produced: the row count PostgreSQL reported and the last line's bytes. */
export interface CopyResult {
  rows: number;
  lastLine: Buffer | undefined;
  bytes: number;
}

interface PgConnection {
  query(text: string): void;
  stream: { pause(): void; resume(): void };
}

/**
 * A lean `COPY ... TO STDOUT` reader that streams the rows into a file, keeping only the
 * last line: no per-row JavaScript beyond one copy into a staging buffer. On a
 * `CopyFramedSocket` (see `copyClientStream`) the rows bypass pg's parser entirely; on
 * any other connection they arrive through pg as CopyData messages. It plugs into `pg`
 * as a "submittable" (the same hook pg-copy-streams uses).
 */
class CopyToFile implements CopyDataSink {
  callback?: (err: Error | null, result?: CopyResult) => void;
  private out: WriteStream;
  private rows = 0;
  private bytes = 0;
  private error: Error | undefined;
  private holds = 0;
  private napTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private connection: PgConnection | undefined;
  private framed: CopyFramedSocket | undefined;
  // Rows are copied into our own staging buffer (pg's and the socket's chunks are views
  // of buffers that may be reused) and written to the file a megabyte at a time.
  private staging = stagingPool.pop() ?? Buffer.allocUnsafe(STAGING_BYTES);
  private used = 0;
  /** Where the last row starts in `staging`, or -1; `lastHead` holds its earlier bytes if a flush split it. */
  private lastStart = -1;
  private lastHead: Buffer | undefined;

  private readonly text: string;

  constructor(text: string, file: string) {
    this.text = text;
    this.out = createWriteStream(file);
    this.out.on('error', (err) => (this.error ??= err));
    this.out.on('drain', () => this.release(HOLD_FILE));
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    if (connection.stream instanceof CopyFramedSocket) {
      this.framed = connection.stream;
      this.framed.sink = this;
    }
    connection.query(this.text);
  }

  /** A row's bytes, or the next piece of one (from the framed socket). */
  copyData(chunk: Buffer, start: number, end: number, rowStart: boolean): void {
    const n = end - start;
    this.bytes += n;
    if (this.used + n > STAGING_BYTES) this.flush();
    if (rowStart) {
      this.lastStart = this.used;
      this.lastHead = undefined;
    }
    if (n > STAGING_BYTES) {
      // A row bigger than the staging buffer (a huge event): written on its own.
      const own = Buffer.from(chunk.subarray(start, end));
      this.lastHead = this.lastHead ? Buffer.concat([this.lastHead, own]) : own;
      this.lastStart = 0;
      this.write(own);
      return;
    }
    chunk.copy(this.staging, this.used, start, end);
    this.used += n;
  }

  /**
   * PostgreSQL sends rows in 8 kB writes; read as they come, that is thousands of wake-ups
   * per batch, each costing more than the bytes it brings. After a small read the socket
   * rests a millisecond, so the next read takes what accumulated (the kernel buffers it,
   * and PostgreSQL keeps producing meanwhile).
   */
  chunkEnd(bytes: number): void {
    if (bytes >= NAP_BELOW || this.holds & HOLD_NAP || this.finished) return;
    this.hold(HOLD_NAP);
    this.napTimer = setTimeout(() => this.release(HOLD_NAP), NAP_MS);
  }

  private hold(reason: number): void {
    if (this.holds === 0) this.connection?.stream.pause();
    this.holds |= reason;
  }

  private release(reason: number): void {
    if (!(this.holds & reason)) return;
    this.holds &= ~reason;
    if (this.holds === 0) this.connection?.stream.resume();
  }

  // pg parses CopyData messages itself when the socket is not a CopyFramedSocket (or uses TLS).
  handleCopyData(message: { chunk: Buffer }): void {
    this.copyData(message.chunk, 0, message.chunk.length, true);
  }

  private flush(): void {
    if (this.used === 0) return;
    const staging = this.staging;
    const full = staging.subarray(0, this.used);
    if (this.lastStart >= 0) {
      // Copied: the staging buffer goes back to the pool once written.
      const tail = Buffer.from(full.subarray(this.lastStart));
      this.lastHead = this.lastHead ? Buffer.concat([this.lastHead, tail]) : tail;
      this.lastStart = 0; // the row, if it continues, continues at the start of the next buffer
    }
    this.staging = stagingPool.pop() ?? Buffer.allocUnsafe(STAGING_BYTES);
    this.used = 0;
    this.write(full, () => {
      if (stagingPool.length < STAGING_POOL) stagingPool.push(staging);
    });
  }

  private write(buffer: Buffer, written?: () => void): void {
    // Back-pressure: stop reading the socket while the file is behind.
    if (!this.out.write(buffer, written)) this.hold(HOLD_FILE);
  }

  private lastLine(): Buffer | undefined {
    if (this.lastStart < 0) return this.lastHead;
    const tail = this.staging.subarray(this.lastStart, this.used);
    return this.lastHead ? Buffer.concat([this.lastHead, tail]) : Buffer.from(tail);
  }

  handleCommandComplete(message: { text: string }): void {
    this.rows = Number(/COPY (\d+)/.exec(message.text)?.[1] ?? 0);
  }

  handleError(err: Error): void {
    // pg hands an error to the query and forgets it: no ReadyForQuery follows for us.
    this.error ??= err;
    this.finish();
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  private finish(): void {
    if (this.framed?.sink === this) this.framed.sink = undefined;
    if (this.finished) return;
    this.finished = true;
    const lastLine = this.lastLine();
    this.flush();
    if (stagingPool.length < STAGING_POOL) stagingPool.push(this.staging); // the fresh one flush left, unused
    clearTimeout(this.napTimer);
    this.release(HOLD_FILE | HOLD_NAP);
    this.out.end(() => {
      this.callback?.(this.error ?? null, this.error ? undefined : { rows: this.rows, lastLine, bytes: this.bytes });
    });
  }

  // pg calls these for any query; a COPY TO never triggers them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
}

/**
 * The `stream` option for a `pg.Client` whose COPY TO output `copyToFile` should take
 * straight from the socket. Plain connections only: with TLS (pg negotiates it over the
 * socket, then reads through a TLS stream) it is an ordinary socket, and `copyToFile`
 * lets pg parse the rows.
 */
export function copyClientStream(): () => net.Socket {
  // pg calls the factory with its connection options (typed as taking none).
  const factory = (options?: { ssl?: unknown }) => (options?.ssl ? new net.Socket() : new CopyFramedSocket());
  return factory as () => net.Socket;
}

/** Runs `COPY (...) TO STDOUT` on `client` and writes its output to `file`. */
export function copyToFile(client: pg.ClientBase, copySql: string, file: string): Promise<CopyResult> {
  return new Promise((resolve, reject) => {
    const copy = new CopyToFile(copySql, file);
    copy.callback = (err, result) => (err ? reject(err) : resolve(result!));
    client.query(copy as unknown as pg.QueryConfig);
  });
}
