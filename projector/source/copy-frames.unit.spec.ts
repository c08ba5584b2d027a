import { describe, expect, it } from 'vitest';
import { CopyFramedSocket, type CopyDataSink } from './copy-frames.ts';

/** A backend message: type byte, int32 length (counting itself), payload. */
function message(type: string, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header[0] = type.charCodeAt(0);
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Feeds `stream` to a socket in the given chunk sizes; returns what pg and the sink received. */
function feed(stream: Buffer, cuts: number[], sinkOn: (pgBytes: Buffer) => boolean) {
  const socket = new CopyFramedSocket();
  const toPg: Buffer[] = [];
  const rows: Buffer[] = [];
  let row: Buffer[] | undefined;
  const sink: CopyDataSink = {
    copyData(chunk, start, end, rowStart) {
      if (rowStart) {
        if (row) rows.push(Buffer.concat(row));
        row = [];
      }
      row!.push(Buffer.from(chunk.subarray(start, end)));
    },
    chunkEnd() {},
  };
  socket.on('data', (b: Buffer) => {
    toPg.push(b);
    // The "query" decides on the bytes pg has seen so far whether the sink is set (as submit/finish do).
    socket.sink = sinkOn(Buffer.concat(toPg)) ? sink : undefined;
  });
  socket.sink = sinkOn(Buffer.alloc(0)) ? sink : undefined;
  const received = (socket as unknown as { received(b: Buffer, n: number): void }).received.bind(socket);
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut <= at) continue;
    // The socket reuses its read buffer: hand it a scratch copy that is overwritten afterwards.
    const scratch = Buffer.from(stream.subarray(at, cut));
    received(scratch, scratch.length);
    scratch.fill(0x7a);
    at = cut;
  }
  if (row) rows.push(Buffer.concat(row));
  socket.destroy();
  return { toPg: Buffer.concat(toPg), rows };
}

describe('CopyFramedSocket', () => {
  const lines = Array.from({ length: 40 }, (_, i) => Buffer.from(`${i}\x1f${'x'.repeat(i * 7)}\x1f{"a": "b"}\n`));
  const before = Buffer.concat([message('Z', 'I'), message('A', '\0\0\0\x01angelis_events\0\0')]);
  const copy = Buffer.concat([message('H', '\0\0\x0a'), ...lines.map((l) => message('d', l)), message('c', ''), message('C', 'COPY 40\0')]);
  const after = Buffer.concat([message('Z', 'I'), message('A', '\0\0\0\x02angelis_events\0\0')]);
  const stream = Buffer.concat([before, copy, after]);
  const withoutRows = Buffer.concat([before, message('H', '\0\0\x0a'), message('c', ''), message('C', 'COPY 40\0'), after]);
  // The sink is set while the COPY runs: after pg has seen the first ReadyForQuery, until the second.
  const copying = (seen: Buffer) => seen.length >= before.length && seen.length <= withoutRows.length - after.length;

  it('passes every other message to pg byte for byte and the rows to the sink, however the reads are cut', () => {
    const cutsList: number[][] = [[], Array.from({ length: stream.length }, (_, i) => i + 1)];
    for (let n = 0; n < 200; n++) {
      const cuts = Array.from({ length: 1 + Math.floor(Math.random() * 30) }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
      cutsList.push(cuts);
    }
    for (const cuts of cutsList) {
      const { toPg, rows } = feed(stream, cuts, copying);
      expect(toPg.equals(withoutRows)).toBe(true);
      expect(rows.length).toBe(lines.length);
      rows.forEach((r, i) => expect(r.equals(lines[i])).toBe(true));
    }
  });

  it('hands CopyData to pg when no sink is set', () => {
    for (const cuts of [[], [3, 7, 50, 51, 52, 300]]) {
      const { toPg, rows } = feed(stream, cuts, () => false);
      expect(toPg.equals(stream)).toBe(true);
      expect(rows).toEqual([]);
    }
  });
});
