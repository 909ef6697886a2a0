/**
 * A minimal GGUF (version 3) writer: metadata key-value pairs and f32 or f16
 * tensors, enough to build tiny llama-architecture models for tests. Layout, from the
 * GGUF spec: magic `GGUF`, version, tensor count, key-value count, the pairs,
 * the tensor infos (dimensions listed fastest first), padding to the
 * alignment, then the tensor data, each tensor padded to the alignment.
 */
import { writeFile } from "node:fs/promises";

export const GGUF_ALIGNMENT = 32;

/** A metadata value with its GGUF type spelled out (GGUF keys are typed). */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "string"; values: readonly string[] }
  | { type: "array"; itemType: "i32" | "f32"; values: readonly number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions listed fastest first, as ggml does: a matrix `[in, out]` holds `out` rows of `in` floats. */
  dims: readonly number[];
  data: Float32Array;
  /** How the data is stored: f32 (the default) or f16, half the size for large matrices. */
  type?: "f32" | "f16";
}

export interface GgufFile {
  metadata: ReadonlyArray<readonly [key: string, value: GgufValue]>;
  tensors: readonly GgufTensor[];
}

// GGUF value type codes (gguf.h).
const TYPE_CODE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const GGML_TYPE = { f32: 0, f16: 1 } as const;

class ByteSink {
  private readonly chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }

  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }

  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(TYPE_CODE[value.type]);
  switch (value.type) {
    case "u32":
      sink.u32(value.value);
      return;
    case "i32":
      sink.i32(value.value);
      return;
    case "f32":
      sink.f32(value.value);
      return;
    case "bool":
      sink.push(Buffer.from([value.value ? 1 : 0]));
      return;
    case "string":
      sink.string(value.value);
      return;
    case "array":
      sink.u32(TYPE_CODE[value.itemType]);
      sink.u64(value.values.length);
      for (const item of value.values) {
        if (value.itemType === "string") sink.string(item as string);
        else if (value.itemType === "i32") sink.i32(item as number);
        else sink.f32(item as number);
      }
      return;
  }
}

/** Serialize a GGUF file to bytes. Throws on a tensor whose data does not match its dimensions. */
export function encodeGguf(file: GgufFile): Buffer {
  const header = new ByteSink();
  header.push(Buffer.from("GGUF", "ascii"));
  header.u32(3);
  header.u64(file.tensors.length);
  header.u64(file.metadata.length);
  for (const [key, value] of file.metadata) {
    header.string(key);
    writeValue(header, value);
  }

  const data = new ByteSink();
  for (const tensor of file.tensors) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    if (elements !== tensor.data.length) {
      throw new Error(
        `GGUF tensor ${tensor.name}: dims [${tensor.dims.join(", ")}] need ${elements} floats, got ${tensor.data.length}`,
      );
    }
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(GGML_TYPE[tensor.type ?? "f32"]);
    header.u64(data.length);
    data.push(
      tensor.type === "f16"
        ? halfPrecision(tensor.data)
        : Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
    );
    data.padTo(GGUF_ALIGNMENT);
  }
  header.padTo(GGUF_ALIGNMENT);
  return Buffer.concat([header.toBuffer(), data.toBuffer()]);
}

/**
 * IEEE 754 half-precision bytes (round to nearest even): Node 20 has no
 * Float16Array. Values past the f16 range become infinities, tiny ones zero.
 */
function halfPrecision(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 2);
  const float = new Float32Array(1);
  const bits = new Uint32Array(float.buffer);
  for (let i = 0; i < values.length; i++) {
    float[0] = values[i]!;
    const x = bits[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = ((x >>> 23) & 0xff) - 127 + 15;
    let mantissa = x & 0x7fffff;
    let half: number;
    if (exponent <= 0) {
      half = sign; // below the smallest normal half: zero is close enough for weights
    } else if (exponent >= 0x1f) {
      half = sign | 0x7c00;
    } else {
      // Round the 23-bit mantissa to 10 bits, ties to even; a carry bumps the exponent.
      const rest = mantissa & 0x1fff;
      mantissa >>>= 13;
      if (rest > 0x1000 || (rest === 0x1000 && (mantissa & 1) === 1)) mantissa += 1;
      half = sign | ((exponent << 10) + mantissa);
    }
    out.writeUInt16LE(half, i * 2);
  }
  return out;
}

export async function writeGguf(path: string, file: GgufFile): Promise<void> {
  await writeFile(path, encodeGguf(file));
}
