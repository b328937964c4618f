/**
 * A gRPC load client cheap enough that the server, not the client, is the
 * bottleneck: one HTTP/2 connection over mutual TLS that keeps a number of
 * calls in flight, each a copy of frames built beforehand (see
 * `h2_frames.ts`) with its stream id patched in. Responses are not
 * decoded: a call succeeded when its response carried a message (DATA)
 * before the stream ended, since a gRPC error is a trailers-only response.
 *
 * @module
 */
import {
  copyCall,
  dataBytes,
  Flag,
  frame,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_WINDOW,
  PREFACE,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "./h2_frames.ts";

/** The PEM files of a mutual TLS client. */
export interface ClientPem {
  /** The CA the server's certificate chains to. */
  ca: string;
  /** The client certificate. */
  cert: string;
  /** The client's private key. */
  key: string;
}

/**
 * Calls to send in a cycle, shared by any number of connections: each takes
 * the call at `next` and moves it on, so that together they send the calls
 * in order, over and over.
 */
export class CallRing {
  /** Each call's frames (see `callFrames`). */
  readonly calls: Uint8Array[];
  /** Each call's DATA bytes, which flow control counts. */
  readonly dataBytes: number[];
  /** The call sent next. */
  next = 0;

  /** @param calls Each call's frames, built by `callFrames`. */
  constructor(calls: Uint8Array[]) {
    this.calls = calls;
    this.dataBytes = calls.map(dataBytes);
  }
}

/** Options for {@linkcode RawGrpcConnection.connect}. */
export interface RawGrpcOptions {
  /** The server's port on 127.0.0.1. */
  port: number;
  /** The client's certificates. */
  pem: ClientPem;
}

/** The connection window this client grants is topped up past this. */
const WINDOW_REFILL = 1 << 24;

/** One HTTP/2 connection keeping calls of a {@linkcode CallRing} in flight. */
export class RawGrpcConnection {
  /** Calls answered with a message. */
  completed = 0;
  /** Calls that ended without one (an error status or a reset stream). */
  failed = 0;
  readonly #conn: Deno.TlsConn;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS. */
  #maxStreams = Infinity;
  #streams = 0;
  /** Stream id → whether its response carried data. */
  readonly #open = new Map<number, boolean>();
  #nextStream = 1;
  #sendWindow = 65_535;
  #streamWindow = 65_535;
  #unacknowledged = 0;
  #ring: CallRing | undefined;
  #out = new Uint8Array(1 << 16);
  #outLength = 0;
  #writing = false;
  #error: Error | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  readonly #settings = Promise.withResolvers<void>();

  private constructor(conn: Deno.TlsConn) {
    this.#conn = conn;
  }

  /**
   * Opens a connection and waits for the server's SETTINGS.
   *
   * @throws {Error} when the handshake fails or the server does not speak h2.
   */
  static async connect(options: RawGrpcOptions): Promise<RawGrpcConnection> {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: options.port,
      caCerts: [options.pem.ca],
      cert: options.pem.cert,
      key: options.pem.key,
      alpnProtocols: ["h2"],
    });
    const connection = new RawGrpcConnection(conn);
    connection.#queue(PREFACE);
    connection.#queue(settingsFrame([
      [Setting.ENABLE_PUSH, 0],
      [Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW],
    ]));
    connection.#queue(windowUpdateFrame(0, MAX_WINDOW - 65_535));
    connection.#flush();
    connection.#readLoop().catch((error) => connection.#fail(error));
    await connection.#settings.promise;
    return connection;
  }

  /**
   * Starts sending the calls of `ring`, keeping `streams` in flight (or as
   * many as the server allows).
   */
  run(ring: CallRing, streams: number): void {
    this.#throwIfFailed();
    this.#ring = ring;
    this.#streams = Math.min(streams, this.#maxStreams);
    this.#fill();
    this.#flush();
  }

  /** Stops sending and resolves once every call in flight has ended. */
  stop(): Promise<void> {
    this.#ring = undefined;
    this.#throwIfFailed();
    if (this.#open.size === 0) return Promise.resolve();
    this.#drained = Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error;
  }

  #fail(error: unknown): void {
    this.#error ??= error instanceof Error ? error : new Error(String(error));
    this.#settings.reject(this.#error);
    this.#drained?.reject(this.#error);
  }

  /** Sends calls until the limit of streams or of the send window. */
  #fill(): void {
    const ring = this.#ring;
    if (ring === undefined) return;
    while (this.#open.size < this.#streams) {
      const i = ring.next;
      const size = ring.dataBytes[i]!;
      if (size > this.#streamWindow) {
        throw new RangeError(
          `a call of ${size} bytes exceeds the server's stream window of ${this.#streamWindow}`,
        );
      }
      if (size > this.#sendWindow) return;
      ring.next = i + 1 === ring.calls.length ? 0 : i + 1;
      const call = ring.calls[i]!;
      this.#reserve(call.length);
      const stream = this.#nextStream;
      this.#nextStream += 2;
      this.#open.set(stream, false);
      this.#sendWindow -= size;
      this.#outLength = copyCall(this.#out, this.#outLength, {
        frames: call,
        stream,
      });
    }
  }

  /** Makes room for `bytes` more bytes to send. */
  #reserve(bytes: number): void {
    if (this.#outLength + bytes <= this.#out.length) return;
    const out = new Uint8Array(2 * (this.#outLength + bytes));
    out.set(this.#out.subarray(0, this.#outLength));
    this.#out = out;
  }

  #queue(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#out.set(bytes, this.#outLength);
    this.#outLength += bytes.length;
  }

  /** Writes what is queued, one write at a time. */
  #flush(): void {
    if (this.#writing || this.#outLength === 0) return;
    this.#writing = true;
    (async () => {
      while (this.#outLength > 0) {
        const data = this.#out.slice(0, this.#outLength);
        this.#outLength = 0;
        for (let written = 0; written < data.length;) {
          written += await this.#conn.write(data.subarray(written));
        }
      }
      this.#writing = false;
    })().catch((error) => this.#fail(error));
  }

  async #readLoop(): Promise<void> {
    let buffer = new Uint8Array(1 << 20);
    let have = 0;
    for (;;) {
      if (have === buffer.length) {
        const bigger = new Uint8Array(2 * buffer.length);
        bigger.set(buffer);
        buffer = bigger;
      }
      const n = await this.#conn.read(buffer.subarray(have));
      if (n === null) throw new Error("the server closed the connection");
      have += n;
      const view = new DataView(buffer.buffer);
      let at = 0;
      while (have - at >= FRAME_HEADER_BYTES) {
        const length = (buffer[at]! << 16) | (buffer[at + 1]! << 8) |
          buffer[at + 2]!;
        if (have - at < FRAME_HEADER_BYTES + length) break;
        this.#onFrame(
          buffer[at + 3]!,
          buffer[at + 4]!,
          view.getUint32(at + 5) & 0x7fff_ffff,
          buffer.subarray(
            at + FRAME_HEADER_BYTES,
            at + FRAME_HEADER_BYTES + length,
          ),
        );
        at += FRAME_HEADER_BYTES + length;
      }
      buffer.copyWithin(0, at, have);
      have -= at;
      this.#fill();
      this.#flush();
    }
  }

  #onFrame(
    type: number,
    flags: number,
    stream: number,
    payload: Uint8Array,
  ): void {
    switch (type) {
      case FrameType.DATA:
        this.#unacknowledged += payload.length;
        if (this.#unacknowledged >= WINDOW_REFILL) {
          this.#queue(windowUpdateFrame(0, this.#unacknowledged));
          this.#unacknowledged = 0;
        }
        if (payload.length > 0 && this.#open.has(stream)) {
          this.#open.set(stream, true);
        }
        if (flags & Flag.END_STREAM) this.#end(stream, true);
        return;
      case FrameType.HEADERS:
        if (flags & Flag.END_STREAM) this.#end(stream, true);
        return;
      case FrameType.RST_STREAM:
        this.#end(stream, false);
        return;
      case FrameType.SETTINGS:
        if (flags & Flag.ACK) return;
        this.#onSettings(payload);
        return;
      case FrameType.PING:
        if (!(flags & Flag.ACK)) {
          this.#queue(
            frame({ type: FrameType.PING, flags: Flag.ACK }, payload),
          );
        }
        return;
      case FrameType.WINDOW_UPDATE:
        if (stream === 0) {
          this.#sendWindow += new DataView(
            payload.buffer,
            payload.byteOffset,
          ).getUint32(0) & 0x7fff_ffff;
        }
        return;
      case FrameType.GOAWAY:
        throw new Error(
          `the server sent GOAWAY (error code ${
            new DataView(payload.buffer, payload.byteOffset).getUint32(4)
          })`,
        );
    }
  }

  #onSettings(payload: Uint8Array): void {
    const view = new DataView(payload.buffer, payload.byteOffset);
    for (let at = 0; at + 6 <= payload.length; at += 6) {
      const value = view.getUint32(at + 2);
      switch (view.getUint16(at)) {
        case Setting.MAX_CONCURRENT_STREAMS:
          this.#maxStreams = value;
          this.#streams = Math.min(this.#streams, value);
          break;
        case Setting.INITIAL_WINDOW_SIZE:
          this.#streamWindow = value;
          break;
      }
    }
    this.#queue(frame({ type: FrameType.SETTINGS, flags: Flag.ACK }));
    this.#settings.resolve();
  }

  /** A stream ended: it succeeded if it was not reset and carried data. */
  #end(stream: number, ended: boolean): void {
    const data = this.#open.get(stream);
    if (data === undefined) return;
    this.#open.delete(stream);
    if (ended && data) this.completed++;
    else this.failed++;
    if (this.#ring === undefined && this.#open.size === 0) {
      this.#drained?.resolve();
    }
  }
}
