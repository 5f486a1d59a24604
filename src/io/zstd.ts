/**
 * Zstandard decompression for readers (BGEN v1.3 genotype blocks), through the `@bokuweb/zstd-wasm` package
 * (the reference zstd library compiled to WebAssembly: no native build). The module is instantiated once, on
 * the first call of {@link zstdDecompressor}.
 */
import { decompress, init } from '@bokuweb/zstd-wasm';

let ready: Promise<void> | undefined;

/**
 * Resolves to a synchronous function that decompresses one zstd frame whose decompressed size is `size` bytes.
 * The function throws an Error (with the library's code) for corrupt data; callers turn it into an InputError
 * naming the file and byte offset. Cost: O(compressed + decompressed bytes), one copy out of wasm memory.
 */
export async function zstdDecompressor(): Promise<(data: Uint8Array, size: number) => Uint8Array> {
  ready ??= init();
  await ready;
  return (data, size) => {
    if (data.length < 4 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) throw new Error('not a zstd frame (magic bytes 28 b5 2f fd expected)');
    const out = decompress(data, { defaultHeapSize: size });
    if (out.length !== size) throw new Error(`decompressed to ${out.length} bytes, expected ${size}`);
    return out;
  };
}
