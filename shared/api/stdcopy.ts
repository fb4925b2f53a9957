/** Docker's multiplexed stream framing for non-TTY attach/logs: [stream,0,0,0,len(4 BE)] + payload. */
export const enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  System = 3,
}

export function frame(stream: StreamType, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Incrementally splits a multiplexed byte stream back into frames. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Array<{ stream: StreamType; data: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Array<{ stream: StreamType; data: Buffer }> = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      out.push({ stream: this.buf[0] as StreamType, data: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}
