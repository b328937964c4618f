/**
 * The few HTTP/2 frames (RFC 9113) a gRPC load client writes, built once
 * as bytes so that sending a call is a copy and a patch of its stream id:
 * no HPACK state (every header is a literal or a static-table entry) and no
 * protobuf encoding per request.
 *
 * @module
 */
import { grpcFrame } from "./load_wire.ts";

/** Frame types. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
} as const;

/** Frame flags (END_STREAM and ACK share a bit, on different frames). */
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** SETTINGS parameters this client reads or sets. */
export const Setting = {
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
} as const;

/** The size of a frame header. */
export const FRAME_HEADER_BYTES = 9;

/** The largest DATA payload every peer accepts (SETTINGS_MAX_FRAME_SIZE's floor). */
const MAX_FRAME_PAYLOAD = 16_384;

/** The largest flow-control window. */
export const MAX_WINDOW = 2 ** 31 - 1;

/** The client connection preface. */
export const PREFACE = new TextEncoder().encode(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
);

/** What a frame header says, but its payload's length. */
export interface FrameHeader {
  /** One of {@linkcode FrameType}. */
  type: number;
  /** {@linkcode Flag} bits. @default 0 */
  flags?: number;
  /** The stream; 0 for the connection. @default 0 */
  stream?: number;
}

/** Writes the header of a frame of `length` payload bytes at `at` of `out`. */
function writeFrameHeader(
  out: Uint8Array,
  at: number,
  header: FrameHeader & { length: number },
): void {
  const { length, type, flags = 0, stream = 0 } = header;
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  writeStreamId(out, at, stream);
}

/** Sets the stream id of the frame whose header starts at `at`. */
function writeStreamId(out: Uint8Array, at: number, stream: number): void {
  out[at + 5] = (stream >>> 24) & 0x7f;
  out[at + 6] = (stream >>> 16) & 0xff;
  out[at + 7] = (stream >>> 8) & 0xff;
  out[at + 8] = stream & 0xff;
}

/** A whole frame with `payload`. */
export function frame(
  header: FrameHeader,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, { ...header, length: payload.length });
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** A SETTINGS frame with `[parameter, value]` pairs. */
export function settingsFrame(settings: [number, number][]): Uint8Array {
  const payload = new Uint8Array(6 * settings.length);
  const view = new DataView(payload.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(6 * i, id);
    view.setUint32(6 * i + 2, value);
  });
  return frame({ type: FrameType.SETTINGS }, payload);
}

/** A WINDOW_UPDATE frame granting `increment` more bytes on `stream`. */
export function windowUpdateFrame(
  stream: number,
  increment: number,
): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, increment);
  return frame({ type: FrameType.WINDOW_UPDATE, stream }, payload);
}

const utf8 = new TextEncoder();

/** An HPACK string literal, not Huffman-coded (lengths below 127). */
function hpackString(text: string): number[] {
  const bytes = utf8.encode(text);
  if (bytes.length >= 127) throw new RangeError(`"${text}" is too long`);
  return [bytes.length, ...bytes];
}

/**
 * The header block of a gRPC call to `path`, using the static table and
 * literals "without indexing", so that it never touches either side's
 * dynamic table and reads the same on every stream.
 */
export function grpcHeaderBlock(path: string, authority: string): Uint8Array {
  return new Uint8Array([
    0x83, // :method POST (static 3)
    0x87, // :scheme https (static 7)
    0x04, // :path, name from static 4
    ...hpackString(path),
    0x01, // :authority, name from static 1
    ...hpackString(authority),
    0x0f, // content-type, name from static 31 (15 + 16)
    0x10,
    ...hpackString("application/grpc"),
    0x00, // te, a literal name
    ...hpackString("te"),
    ...hpackString("trailers"),
  ]);
}

/**
 * One call's frames with stream id 0: HEADERS, then the gRPC-framed
 * `message` in DATA frames of at most 16 KiB, the last with END_STREAM.
 * {@linkcode copyCall} sets the id as the call is sent.
 */
export function callFrames(
  headerBlock: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const body = grpcFrame(message);
  const dataFrames = Math.max(1, Math.ceil(body.length / MAX_FRAME_PAYLOAD));
  const out = new Uint8Array(
    FRAME_HEADER_BYTES * (1 + dataFrames) + headerBlock.length + body.length,
  );
  writeFrameHeader(out, 0, {
    length: headerBlock.length,
    type: FrameType.HEADERS,
    flags: Flag.END_HEADERS,
  });
  out.set(headerBlock, FRAME_HEADER_BYTES);
  let at = FRAME_HEADER_BYTES + headerBlock.length;
  for (let sent = 0; sent < body.length;) {
    const length = Math.min(MAX_FRAME_PAYLOAD, body.length - sent);
    const last = sent + length === body.length;
    writeFrameHeader(out, at, {
      length,
      type: FrameType.DATA,
      flags: last ? Flag.END_STREAM : 0,
    });
    out.set(body.subarray(sent, sent + length), at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + length;
    sent += length;
  }
  return out;
}

/** The DATA payload bytes of a call built by {@linkcode callFrames}. */
export function dataBytes(frames: Uint8Array): number {
  let total = 0;
  for (let at = 0; at < frames.length;) {
    const length = (frames[at]! << 16) | (frames[at + 1]! << 8) |
      frames[at + 2]!;
    if (frames[at + 3] === FrameType.DATA) total += length;
    at += FRAME_HEADER_BYTES + length;
  }
  return total;
}

/**
 * Copies a call's frames into `out` at `at` with every frame on `stream`.
 *
 * @returns Where the copy ends.
 */
export function copyCall(
  out: Uint8Array,
  at: number,
  call: { frames: Uint8Array; stream: number },
): number {
  const { frames, stream } = call;
  out.set(frames, at);
  for (let i = 0; i < frames.length;) {
    const length = (frames[i]! << 16) | (frames[i + 1]! << 8) | frames[i + 2]!;
    writeStreamId(out, at + i, stream);
    i += FRAME_HEADER_BYTES + length;
  }
  return at + frames.length;
}
