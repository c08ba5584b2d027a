import net from 'node:net';

/** Receives the payload bytes of CopyData messages, in order, without their headers. */
export interface CopyDataSink {
  /** `chunk[start, end)` continues a row; `rowStart` marks the first piece of a new row's message. */
  copyData(chunk: Buffer, start: number, end: number, rowStart: boolean): void;
  /** Called after each chunk read from the socket while the sink is set, with its size. */
  chunkEnd(bytes: number): void;
}

const HEADER = 5; // type byte + int32 length (which counts itself, not the type byte)
const COPY_DATA = 0x64; // 'd'
/** Socket reads land in one reused buffer of this size (no allocation per read). */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * A socket for `pg` that hands CopyData messages straight to a sink instead of to pg's
 * parser, which would build an object and emit an event per row (PostgreSQL sends one
 * message per row: 100,000 per batch). It follows the protocol's framing from the
 * connection's first byte, so it always knows where messages start; every other message
 * (and CopyData when no sink is set) reaches pg byte for byte, in order, so pg still
 * sees the query start, complete, fail and become ready as usual.
 *
 * Only for plain TCP or Unix sockets: with TLS the bytes here would be ciphertext (see
 * `copyClientStream`, which then gives pg an ordinary socket).
 */
export class CopyFramedSocket extends net.Socket {
  /** Where CopyData payloads go; undefined: everything goes to pg. */
  sink: CopyDataSink | undefined;
  private readonly header = Buffer.alloc(HEADER);
  private headerUsed = 0;
  /** Bytes of the current message still to come (after its header). */
  private remaining = 0;
  /** Whether the current message's bytes go to the sink (a CopyData with a sink set). */
  private diverting = false;

  constructor() {
    // Reads go into one buffer we own (Node's `onread`), instead of a new buffer per read
    // emitted as 'data': whatever pg must keep is copied out (see `pass`).
    let self: CopyFramedSocket | undefined;
    super({
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array) => {
          self!.received(buffer as Buffer, bytes);
          return true;
        },
      },
    });
    self = this;
  }

  private received(buffer: Buffer, bytes: number): void {
    this.route(bytes === buffer.length ? buffer : buffer.subarray(0, bytes));
    this.sink?.chunkEnd(bytes);
  }

  private route(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    let passFrom = 0; // start of the bytes not yet handed to pg
    while (pos < length) {
      if (this.remaining > 0) {
        // Inside a message: its bytes go to the sink, or stay in the range handed to pg.
        const n = Math.min(this.remaining, length - pos);
        if (this.diverting) this.sink!.copyData(chunk, pos, pos + n, false);
        pos += n;
        this.remaining -= n;
        if (this.diverting) {
          passFrom = pos;
          if (this.remaining === 0) this.diverting = false;
        }
        continue;
      }
      // At a message boundary: read its header, which may be split across chunks.
      const start = pos;
      let type: number;
      let size: number;
      let held = false; // the header came (partly) from an earlier chunk and was kept back
      if (this.headerUsed === 0 && length - pos >= HEADER) {
        type = chunk[pos];
        size = chunk.readUInt32BE(pos + 1);
        pos += HEADER;
      } else {
        // pg gets what precedes the partial header; its bytes wait until the type is known.
        this.pass(chunk, passFrom, pos);
        const n = Math.min(HEADER - this.headerUsed, length - pos);
        chunk.copy(this.header, this.headerUsed, pos, pos + n);
        this.headerUsed += n;
        pos += n;
        passFrom = pos;
        if (this.headerUsed < HEADER) return; // the rest of the header comes with the next chunk
        this.headerUsed = 0;
        type = this.header[0];
        size = this.header.readUInt32BE(1);
        held = true;
      }
      if (size < 4) {
        // The framing is lost: nothing after this point can be trusted.
        this.sink = undefined;
        this.destroy(new Error(`invalid PostgreSQL message length ${size}`));
        return;
      }
      this.remaining = size - 4;
      if (type === COPY_DATA && !held) {
        // pg first gets everything before this message (it may end one query and start another).
        this.pass(chunk, passFrom, start);
        passFrom = start;
      }
      const sink = type === COPY_DATA ? this.sink : undefined;
      if (sink) {
        // The header is dropped, the payload goes to the sink.
        this.diverting = this.remaining > 0;
        const n = Math.min(this.remaining, length - pos);
        sink.copyData(chunk, pos, pos + n, true);
        pos += n;
        this.remaining -= n;
        passFrom = pos;
        if (this.remaining === 0) this.diverting = false;
      } else if (held) {
        this.emit('data', Buffer.from(this.header));
      }
    }
    this.pass(chunk, passFrom, pos);
  }

  /** Hands a copy of `chunk[start, end)` to pg (as a 'data' event, as a socket would; the read buffer is reused). */
  private pass(chunk: Buffer, start: number, end: number): void {
    if (end > start) this.emit('data', Buffer.from(chunk.subarray(start, end)));
  }
}
