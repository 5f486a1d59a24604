/**
 * A tiny WebAssembly binary writer: just enough of the format (types, one imported memory, functions,
 * exports, and the scalar/SIMD128 instructions the cpu kernels use) to emit hand-scheduled kernels from
 * TypeScript without a toolchain. Reference: the WebAssembly core spec 2.0, binary format chapter.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F64 | typeof V128;

function uleb(v: number, out: number[]): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(v: number, out: number[]): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const bytes = Buffer.from(s, 'utf8');
  uleb(bytes.length, out);
  out.push(...bytes);
}

function vec(items: number[][], out: number[]): void {
  uleb(items.length, out);
  for (const it of items) out.push(...it);
}

/** Instruction stream of one function body; locals are numbered after the parameters. */
export class Code {
  readonly bytes: number[] = [];
  private readonly localTypes: ValType[] = [];
  constructor(private readonly nParams: number) {}

  /** Declares a local and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
  }

  private simd(op: number): this {
    this.bytes.push(0xfd);
    uleb(op, this.bytes);
    return this;
  }
  private mem(align: number, offset: number): this {
    uleb(align, this.bytes);
    uleb(offset, this.bytes);
    return this;
  }

  block(): this { this.bytes.push(0x02, 0x40); return this; }
  loop(): this { this.bytes.push(0x03, 0x40); return this; }
  end(): this { this.bytes.push(0x0b); return this; }
  br(depth: number): this { this.bytes.push(0x0c); uleb(depth, this.bytes); return this; }
  brIf(depth: number): this { this.bytes.push(0x0d); uleb(depth, this.bytes); return this; }
  get(i: number): this { this.bytes.push(0x20); uleb(i, this.bytes); return this; }
  set(i: number): this { this.bytes.push(0x21); uleb(i, this.bytes); return this; }
  tee(i: number): this { this.bytes.push(0x22); uleb(i, this.bytes); return this; }
  i32(v: number): this { this.bytes.push(0x41); sleb(v | 0, this.bytes); return this; }
  i32Add(): this { this.bytes.push(0x6a); return this; }
  i32Sub(): this { this.bytes.push(0x6b); return this; }
  i32Mul(): this { this.bytes.push(0x6c); return this; }
  i32Shl(): this { this.bytes.push(0x74); return this; }
  i32ShrU(): this { this.bytes.push(0x76); return this; }
  i32Eqz(): this { this.bytes.push(0x45); return this; }
  i32GtS(): this { this.bytes.push(0x4a); return this; }
  i32Or(): this { this.bytes.push(0x72); return this; }
  i32GeS(): this { this.bytes.push(0x4e); return this; }
  f64Load(offset = 0): this { this.bytes.push(0x2b); return this.mem(3, offset); }
  f64Store(offset = 0): this { this.bytes.push(0x39); return this.mem(3, offset); }
  f64Add(): this { this.bytes.push(0xa0); return this; }
  f64Mul(): this { this.bytes.push(0xa2); return this; }
  f64Div(): this { this.bytes.push(0xa3); return this; }
  f64Const(v: number): this { this.bytes.push(0x44); const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, v, true); for (let k = 0; k < 8; k++) this.bytes.push(b.getUint8(k)); return this; }
  v128Load(offset = 0): this { return this.simd(0x00).mem(4, offset); }
  v128Store(offset = 0): this { return this.simd(0x0b).mem(4, offset); }
  /** Loads one f64 and splats it to both lanes. */
  v128Load64Splat(offset = 0): this { return this.simd(0x0a).mem(3, offset); }
  /** Loads 8 signed bytes widened to an i16x8. */
  v128Load8x8S(offset = 0): this { return this.simd(0x01).mem(3, offset); }
  v128Zero(): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.bytes.push(0); return this; }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Mul(): this { return this.simd(0xf2); }
  f64x2Div(): this { return this.simd(0xf3); }
  /** Relaxed SIMD a * b + c (stack: a, b, c); fused on hosts with FMA, else mul then add. */
  f64x2RelaxedMadd(): this { return this.simd(0x107); }
  f64x2Splat(): this { return this.simd(0x14); }
  /** Picks 16 bytes by index from the two operands' 32 (0-15 first, 16-31 second). */
  i8x16Shuffle(lanes: readonly number[]): this { this.simd(0x0d); for (const b of lanes) this.bytes.push(b); return this; }
  f64x2ExtractLane(lane: number): this { this.simd(0x21); this.bytes.push(lane); return this; }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4ExtractLane(lane: number): this { this.simd(0x1b); this.bytes.push(lane); return this; }
  i32Store(offset = 0): this { this.bytes.push(0x36); return this.mem(2, offset); }
  i32Load(offset = 0): this { this.bytes.push(0x28); return this.mem(2, offset); }
  i32Load8U(offset = 0): this { this.bytes.push(0x2d); return this.mem(0, offset); }
  i32And(): this { this.bytes.push(0x71); return this; }
  i32x4DotI16x8S(): this { return this.simd(0xba); }
  i16x8Add(): this { return this.simd(0x8e); }
  /** Sums adjacent pairs of i16 lanes into i32 lanes (exact). */
  i32x4ExtaddPairwiseI16x8S(): this { return this.simd(0x7e); }
  /**
   * Relaxed SIMD: i16 lane l = a[2l] b[2l] + a[2l+1] b[2l+1] over i8 lanes (stack: a, b); exact when every
   * lane of b is in [0, 127] and the pair sum fits i16 (otherwise implementation-defined).
   */
  i16x8RelaxedDotI8x16I7x16S(): this { return this.simd(0x112); }
  i32Load8S(offset = 0): this { this.bytes.push(0x2c); return this.mem(0, offset); }
  i32Eq(): this { this.bytes.push(0x46); return this; }
  i32LtS(): this { this.bytes.push(0x48); return this; }
  f64ConvertI32S(): this { this.bytes.push(0xb7); return this; }
  i32x4Splat(): this { return this.simd(0x11); }
  i8x16Splat(): this { return this.simd(0x0f); }
  /** Lane l = a[b[l]] for b[l] < 16, else 0 (stack: a, b). */
  i8x16Swizzle(): this { return this.simd(0x0e); }
  /** Every byte lane shifted right (logical) by an i32 count mod 8 (stack: v, count). */
  i8x16ShrU(): this { return this.simd(0x6d); }
  v128And(): this { return this.simd(0x4e); }
  /** Replaces byte lane `lane` of a vector with the byte at an address (stack: address, v). */
  v128Load8Lane(lane: number, offset = 0): this { this.simd(0x54).mem(0, offset); this.bytes.push(lane); return this; }
  /** Pops c, b, a: a when c is non-zero, else b. */
  select(): this { this.bytes.push(0x1b); return this; }

  /** Encoded body: local declarations (one run per local) then the instructions and the final `end`. */
  encode(): number[] {
    const body: number[] = [];
    vec(this.localTypes.map((t) => [1, t]), body);
    body.push(...this.bytes, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

export interface WasmFunction {
  name: string;
  params: ValType[];
  code: Code;
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

/** A module importing memory `env.memory` (shared when asked, 64 KiB pages) and exporting `functions`. */
export function assemble(functions: WasmFunction[], memory: { minPages: number; maxPages: number; shared: boolean }): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = functions.map((f) => {
    const t = [0x60];
    vec(f.params.map((p) => [p]), t);
    t.push(0);
    return t;
  });
  const types0: number[] = [];
  vec(types, types0);
  section(1, types0, out);
  const imp: number[] = [1];
  name('env', imp);
  name('memory', imp);
  imp.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(memory.minPages, imp);
  uleb(memory.maxPages, imp);
  section(2, imp, out);
  const fns: number[] = [];
  vec(functions.map((_, i) => { const b: number[] = []; uleb(i, b); return b; }), fns);
  section(3, fns, out);
  const exps: number[] = [];
  vec(functions.map((f, i) => { const b: number[] = []; name(f.name, b); b.push(0x00); uleb(i, b); return b; }), exps);
  section(7, exps, out);
  const code: number[] = [];
  vec(functions.map((f) => f.code.encode()), code);
  section(10, code, out);
  return Uint8Array.from(out);
}
