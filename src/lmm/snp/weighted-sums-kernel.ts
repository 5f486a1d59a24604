/**
 * The level-0 weighted sums of likelihood.ts as a WebAssembly SIMD128 kernel, emitted per pair count np.
 *
 * For Hi_i = 1 / (lambda d_i + 1) and the interleaved products ab (n x np, ab[i np + k] = a_i b_i):
 *   P0[k] = sum_i Hi_i ab[i,k],  PP0[k] = sum_i Hi_i^2 ab[i,k],  PPP0[k] = sum_i Hi_i^3 ab[i,k]  (by order),
 *   tr1 = sum_i Hi_i,  tr2 = sum_i Hi_i^2.
 * The f64x2 lanes hold two *pairs* k, k+1 (never two individuals), so every sum is still accumulated over
 * i = 0..n-1 in order with the same IEEE operations as the scalar loop (wasm has no fused multiply-add): the
 * results are bit-identical to `h = 1 / (lambda * d + 1); p[k] += h * v` in JavaScript. The accumulators live
 * in locals (ceil(np/2) vectors per order). Cost per call: n divisions and n ceil(np/2) order f64x2 mul+add.
 *
 * Memory layout (bytes, one private memory per LambdaSums): d at 0 (n f64 and one of padding), ab at `abAt`
 * (n np f64 plus 16 bytes of padding for the half-used last lane when np is odd), results at `outAt`: P0, PP0,
 * PPP0 each in 2 ceil(np/2) slots, then tr1, tr2; the grid results; then the tables of Hi at fixed lambdas;
 * then, with a ProductSpec, the SNP column x, the fixed columns interleaved (n x nc) and the products' sums.
 */
import { assemble, Code, F64, I32, V128, type WasmFunction } from '../../../kernels/cpu/wasm/assembler.js';
import { wasm, type WasmModule } from '../../../kernels/cpu/wasm/runtime.js';

const byteRun = (from: number): number[] => Array.from({ length: 8 }, (_, k) => from + k);
/** Shuffle patterns: lane 0 (or 1) of the first operand in both lanes; lane 0 (1) of each operand. */
const SPLAT = [[...byteRun(0), ...byteRun(0)], [...byteRun(8), ...byteRun(8)]] as const;
const ZIP = [[...byteRun(0), ...byteRun(16)], [...byteRun(8), ...byteRun(24)]] as const;

/**
 * Export `sums{order}` (source 'divide': params lambda, n, dPtr, abPtr, outPtr; Hi computed as
 * 1 / (lambda d_i + 1)) or `tab{order}` (source 'table': params unused lambda, n, hPtr, abPtr, outPtr; Hi read
 * from a table). Two rows per step share one f64x2 of Hi (and of Hi^2, Hi^3); the rows are then accumulated
 * one after the other. Traces: order 3 accumulates (tr1, tr2) as one f64x2 (a shuffle per row); orders 1 and 2
 * add the row's splat Hi, already formed, giving tr1 in both lanes (tr2 is only needed by second derivatives).
 * Reads one entry past d or the table when n is odd.
 * With from = 3 only the Hi^3 sums and tr2 are accumulated and stored (tr1 and the lower orders are left alone).
 */
function sumsCode(np: number, order: 1 | 2 | 3, source: 'divide' | 'table', from: 1 | 3 = 1): Code {
  const LAMBDA = 0, N = 1, HPTR = 2, ABPTR = 3, OUT = 4;
  const lanes = Math.ceil(np / 2);
  const c = new Code(5);
  const i = c.local(I32), dp = c.local(I32), ap = c.local(I32);
  const tt = c.local(V128), v = c.local(V128);
  const hs = [c.local(V128), c.local(V128), c.local(V128)]; // Hi^o of the two rows
  const ws = [c.local(V128), c.local(V128), c.local(V128)]; // Hi^o of one row in both lanes
  const lambdav = c.local(V128), onev = c.local(V128);
  const acc: number[][] = [];
  for (let o = 0; o < order; o++) acc.push(o + 1 >= from ? Array.from({ length: lanes }, () => c.local(V128)) : []);
  /** Hi of rows i, i + 1 into hs[0], and its powers. */
  const weightsOfTwoRows = (): void => {
    if (source === 'table') c.get(dp).v128Load().set(hs[0]!);
    else c.get(onev).get(lambdav).get(dp).v128Load().f64x2Mul().get(onev).f64x2Add().f64x2Div().set(hs[0]!);
    if (order >= 2) c.get(hs[0]!).get(hs[0]!).f64x2Mul().set(hs[1]!);
    if (order >= 3) c.get(hs[1]!).get(hs[0]!).f64x2Mul().set(hs[2]!);
  };
  /** Accumulates the row at `ap` + rowOffset whose weights are lane `lane` of hs. */
  const row = (lane: 0 | 1, rowOffset: number): void => {
    if (from === 1 && order === 3) c.get(tt).get(hs[0]!).get(hs[1]!).i8x16Shuffle(ZIP[lane]).f64x2Add().set(tt);
    for (let o = from - 1; o < order; o++) c.get(hs[o]!).get(hs[o]!).i8x16Shuffle(SPLAT[lane]).set(ws[o]!);
    if (from === 1 && order < 3) c.get(tt).get(ws[0]!).f64x2Add().set(tt);
    if (from === 3) c.get(tt).get(hs[1]!).get(hs[1]!).i8x16Shuffle(SPLAT[lane]).f64x2Add().set(tt);
    for (let l = 0; l < lanes; l++) {
      c.get(ap).v128Load(rowOffset + 16 * l).set(v);
      for (let o = from - 1; o < order; o++) c.get(acc[o]![l]!).get(v).get(ws[o]!).f64x2Mul().f64x2Add().set(acc[o]![l]!);
    }
  };
  c.get(HPTR).set(dp);
  c.get(ABPTR).set(ap);
  if (source === 'divide') {
    c.get(LAMBDA).f64x2Splat().set(lambdav);
    c.f64Const(1).f64x2Splat().set(onev);
  }
  c.block().loop();
  c.get(i).i32(2).i32Add().get(N).i32GtS().brIf(1);
  weightsOfTwoRows();
  row(0, 0);
  row(1, 8 * np);
  c.get(i).i32(2).i32Add().set(i);
  c.get(dp).i32(16).i32Add().set(dp);
  c.get(ap).i32(16 * np).i32Add().set(ap);
  c.br(0);
  c.end().end();
  // Odd last row.
  c.block();
  c.get(i).get(N).i32GeS().brIf(0);
  weightsOfTwoRows();
  row(0, 0);
  c.end();
  for (let o = from - 1; o < order; o++) {
    for (let l = 0; l < lanes; l++) c.get(OUT).get(acc[o]![l]!).v128Store(16 * (o * lanes + l));
  }
  if (from === 1) c.get(OUT).get(tt).v128Store(48 * lanes);
  else c.get(OUT).get(tt).f64x2ExtractLane(0).f64Store(48 * lanes + 8);
  return c;
}

/**
 * Export `gridPair(n, tabPtr, abPtr, outPtr)`: for one pair k (abPtr points at ab[0, k]) and every tabulated
 * lambda g at once, P0_g[k] = sum_i Hi_gi ab[i,k] and PP0_g[k] = sum_i Hi_gi^2 ab[i,k], with the f64x2 lanes
 * holding two lambdas (the table row i is Hi_g for g < gp, then Hi_g^2). 2 gp mul+add per row, gp/2 loads.
 */
function gridPairCode(np: number, gp: number): Code {
  const N = 0, TAB = 1, AB = 2, OUT = 3;
  const c = new Code(4);
  const i = c.local(I32), tp = c.local(I32), ap = c.local(I32);
  const v = c.local(V128);
  const half = gp / 2;
  const acc1 = Array.from({ length: half }, () => c.local(V128));
  const acc2 = Array.from({ length: half }, () => c.local(V128));
  c.get(TAB).set(tp);
  c.get(AB).set(ap);
  c.block().loop();
  c.get(i).get(N).i32GeS().brIf(1);
  c.get(ap).v128Load64Splat().set(v);
  for (let g = 0; g < half; g++) {
    c.get(acc1[g]!).get(v).get(tp).v128Load(16 * g).f64x2Mul().f64x2Add().set(acc1[g]!);
    c.get(acc2[g]!).get(v).get(tp).v128Load(8 * gp + 16 * g).f64x2Mul().f64x2Add().set(acc2[g]!);
  }
  c.get(i).i32(1).i32Add().set(i);
  c.get(tp).i32(16 * gp).i32Add().set(tp);
  c.get(ap).i32(8 * np).i32Add().set(ap);
  c.br(0);
  c.end().end();
  for (let g = 0; g < half; g++) {
    c.get(OUT).get(acc1[g]!).v128Store(16 * g);
    c.get(OUT).get(acc2[g]!).v128Store(8 * gp + 16 * g);
  }
  return c;
}

/**
 * How a SNP's products are formed inside the kernel's memory: for each entry, ab[i, pair] = x_i * column_i,
 * where `column` indexes the fixed columns (n each) or is -1 for x itself (x_i^2).
 */
export interface ProductSpec {
  columns: readonly Float64Array[];
  pairs: readonly { pair: number; column: number }[];
}

/**
 * Export `products(n, xPtr, colPtr, abPtr, outPtr)`: row by row, v = x_i * col_i (the fixed columns interleaved,
 * n x nc) stored at ab[i, pair], and the plain sum over i of each v (in row order, so bit-identical to the
 * order-1 sums at Hi = 1) into out[entry]. Scalar f64: (nc + |pairs|) loads, |pairs| mul, add and store per row.
 */
function productsCode(np: number, nc: number, spec: ProductSpec['pairs']): Code {
  const N = 0, XP = 1, CP = 2, AP = 3, OUT = 4;
  const c = new Code(5);
  const i = c.local(I32), xp = c.local(I32), cp = c.local(I32), ap = c.local(I32);
  const x = c.local(F64), v = c.local(F64);
  const acc = spec.map(() => c.local(F64));
  c.get(XP).set(xp);
  c.get(CP).set(cp);
  c.get(AP).set(ap);
  c.block().loop();
  c.get(i).get(N).i32GeS().brIf(1);
  c.get(xp).f64Load().set(x);
  spec.forEach((e, k) => {
    c.get(x);
    if (e.column < 0) c.get(x);
    else c.get(cp).f64Load(8 * e.column);
    c.f64Mul().set(v);
    c.get(ap).get(v).f64Store(8 * e.pair);
    c.get(acc[k]!).get(v).f64Add().set(acc[k]!);
  });
  c.get(i).i32(1).i32Add().set(i);
  c.get(xp).i32(8).i32Add().set(xp);
  c.get(cp).i32(8 * nc).i32Add().set(cp);
  c.get(ap).i32(8 * np).i32Add().set(ap);
  c.br(0);
  c.end().end();
  spec.forEach((_, k) => c.get(OUT).get(acc[k]!).f64Store(8 * k));
  return c;
}

const modules = new Map<string, WasmModule>();

function moduleFor(np: number, gp: number, products: ProductSpec | undefined): WasmModule {
  const spec = products?.pairs ?? [];
  const nc = products?.columns.length ?? 0;
  const key = `${np}/${gp}/${nc}/${spec.map((e) => `${e.pair}:${e.column}`).join(',')}`;
  let m = modules.get(key);
  if (!m) {
    const ps = [F64, I32, I32, I32, I32] as const;
    const orders = [1, 2, 3] as const;
    const fns: WasmFunction[] = [
      ...orders.map((o) => ({ name: `sums${o}`, params: [...ps], code: sumsCode(np, o, 'divide') })),
      ...orders.map((o) => ({ name: `tab${o}`, params: [...ps], code: sumsCode(np, o, 'table') })),
      { name: 'sums3only', params: [...ps], code: sumsCode(np, 3, 'divide', 3) },
      { name: 'gridPair', params: [I32, I32, I32, I32], code: gridPairCode(np, gp) },
    ];
    if (spec.length > 0) fns.push({ name: 'products', params: [I32, I32, I32, I32, I32], code: productsCode(np, nc, spec) });
    const bytes = assemble(fns, { minPages: 1, maxPages: 65536, shared: false });
    m = new wasm.Module(bytes);
    modules.set(key, m);
  }
  return m;
}

type SumsFn = (lambda: number, n: number, hPtr: number, abPtr: number, outPtr: number) => void;
type GridPairFn = (n: number, tabPtr: number, abPtr: number, outPtr: number) => void;
type ProductsFn = (n: number, xPtr: number, colPtr: number, abPtr: number, outPtr: number) => void;

/**
 * Owns the kernel's memory for one model: eigenvalues d (copied in), two tables of Hi at fixed lambdas (the
 * optimiser's grid; lambda-major for runTabulated, row-major with Hi^2 for runGridPair), the products `ab`
 * (a view into the memory that callers write the next SNP's products into, or that runProducts forms from `x`),
 * and the results.
 */
export class LambdaSums {
  readonly ab: Float64Array;
  /**
   * Results of run/runTabulated: P0 at [0, np), PP0 at [2L, 2L + np), PPP0 at [4L, 4L + np) (L = ceil(np/2)),
   * tr1 at 6L, and at 6L + 1 tr2 after order 3 (tr1 again after orders 1 and 2).
   */
  readonly out: Float64Array;
  /** Results of runGridPair: P0 at tabulated lambda g in [g], PP0 in [gp + g] (gp = the lambda count rounded up to even). */
  readonly gridOut: Float64Array;
  /** The SNP column x (n) that runProducts reads (empty without a ProductSpec). */
  readonly x: Float64Array;
  /** Results of runProducts: the plain sum over i of each ProductSpec entry's products, in spec order. */
  readonly productSums: Float64Array;
  readonly lanes: number;
  readonly gp: number;
  private readonly divide: SumsFn[];
  private readonly table: SumsFn[];
  private readonly gridPair: GridPairFn;
  private readonly sums3only: SumsFn;
  private readonly products: ProductsFn | undefined;
  private readonly abAt: number;
  private readonly outAt: number;
  private readonly gridOutAt: number;
  private readonly tableAt: number;
  private readonly rowTableAt: number;
  private readonly xAt: number;
  private readonly colAt: number;
  private readonly productSumsAt: number;

  /**
   * @param tableLambdas lambdas whose Hi_i = 1 / (lambda d_i + 1) are tabulated once (n each, twice)
   * @param productSpec how runProducts forms a SNP's products from `x` and fixed columns (copied in), if used
   */
  constructor(
    private readonly n: number,
    readonly np: number,
    d: Float64Array,
    ab: Float64Array,
    private readonly tableLambdas: Float64Array,
    productSpec?: ProductSpec,
  ) {
    if (!Number.isInteger(n) || n < 1 || d.length !== n || ab.length < n * np) {
      throw new RangeError(`LambdaSums: expected n >= 1, d of length n and ab of n*np (n=${n}, np=${np}), got d ${d.length}, ab ${ab.length}`);
    }
    const nc = productSpec?.columns.length ?? 0;
    const spec = productSpec?.pairs ?? [];
    if (productSpec) {
      if (spec.length === 0) throw new RangeError('LambdaSums: a ProductSpec needs at least one pair');
      for (const col of productSpec.columns) if (col.length < n) throw new RangeError(`LambdaSums: product column of length ${col.length}, expected n=${n}`);
      for (const e of spec) {
        if (!(Number.isInteger(e.pair) && e.pair >= 0 && e.pair < np) || !(Number.isInteger(e.column) && e.column >= -1 && e.column < nc)) {
          throw new RangeError(`LambdaSums: product entry (pair ${e.pair}, column ${e.column}) outside pairs 0..${np - 1}, columns -1..${nc - 1}`);
        }
      }
    }
    const g = tableLambdas.length;
    this.lanes = Math.ceil(np / 2);
    this.gp = 2 * Math.ceil(g / 2);
    const align = (x: number): number => (x + 15) & ~15;
    this.abAt = align(8 * n + 16);
    this.outAt = align(this.abAt + 8 * n * np + 16);
    this.gridOutAt = align(this.outAt + 8 * (6 * this.lanes + 2));
    this.tableAt = align(this.gridOutAt + 16 * this.gp);
    this.rowTableAt = align(this.tableAt + 8 * n * g + 16);
    this.xAt = align(this.rowTableAt + 16 * n * this.gp);
    this.colAt = align(this.xAt + 8 * n);
    this.productSumsAt = align(this.colAt + 8 * n * nc);
    const bytes = this.productSumsAt + 8 * spec.length;
    const pages = Math.ceil(bytes / 65536);
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    const inst = new wasm.Instance(moduleFor(np, this.gp, productSpec), { env: { memory } });
    this.divide = [1, 2, 3].map((o) => inst.exports[`sums${o}`] as SumsFn);
    this.table = [1, 2, 3].map((o) => inst.exports[`tab${o}`] as SumsFn);
    this.gridPair = inst.exports.gridPair as GridPairFn;
    this.sums3only = inst.exports.sums3only as SumsFn;
    this.products = productSpec ? (inst.exports.products as ProductsFn) : undefined;
    const buf = memory.buffer as ArrayBuffer;
    this.x = new Float64Array(buf, this.xAt, productSpec ? n : 0);
    this.productSums = new Float64Array(buf, this.productSumsAt, spec.length);
    const cols = new Float64Array(buf, this.colAt, n * nc);
    productSpec?.columns.forEach((col, k) => {
      for (let i = 0; i < n; i++) cols[i * nc + k] = col[i]!;
    });
    new Float64Array(buf, 0, n).set(d);
    this.ab = new Float64Array(buf, this.abAt, n * np);
    this.ab.set(ab.subarray(0, n * np));
    this.out = new Float64Array(buf, this.outAt, 6 * this.lanes + 2);
    this.gridOut = new Float64Array(buf, this.gridOutAt, 2 * this.gp);
    const tab = new Float64Array(buf, this.tableAt, n * g);
    const rowTab = new Float64Array(buf, this.rowTableAt, 2 * n * this.gp); // padding lambdas keep Hi = 0
    for (let k = 0; k < g; k++) {
      for (let i = 0; i < n; i++) {
        const h = 1 / (tableLambdas[k]! * d[i]! + 1);
        tab[k * n + i] = h;
        rowTab[2 * this.gp * i + k] = h;
        rowTab[2 * this.gp * i + this.gp + k] = h * h;
      }
    }
  }

  /**
   * Forms the SNP's products from `x` (see ProductSpec) into `ab`, and their plain sums into productSums
   * (bit-identical to the same entries of run(0, 1)). O(n |pairs|).
   */
  runProducts(): void {
    if (!this.products) throw new RangeError('LambdaSums.runProducts: constructed without a ProductSpec');
    this.products(this.n, this.xAt, this.colAt, this.abAt, this.productSumsAt);
  }

  /** Computes the sums up to `order` at lambda into `out`. O(n np order) plus n divisions. */
  run(lambda: number, order: 1 | 2 | 3): void {
    this.divide[order - 1]!(lambda, this.n, 0, this.abAt, this.outAt);
  }

  /**
   * Only the Hi^3 sums (PPP0) and tr2 at lambda into `out`, leaving P0, PP0 and tr1 as they are: after
   * run(lambda, 2) at the same lambda this completes an order-3 result, bit-identical to run(lambda, 3).
   * O(n np) plus n divisions.
   */
  runThirdOrder(lambda: number): void {
    this.sums3only(lambda, this.n, 0, this.abAt, this.outAt);
  }

  /** The same at the k-th tabulated lambda, reading Hi from the table (bit-identical to run). O(n np order). */
  runTabulated(k: number, order: 1 | 2 | 3): void {
    if (!(k >= 0 && k < this.tableLambdas.length)) throw new RangeError(`LambdaSums: table index ${k} outside 0..${this.tableLambdas.length - 1}`);
    this.table[order - 1]!(0, this.n, this.tableAt + 8 * this.n * k, this.abAt, this.outAt);
  }

  /**
   * P0 and PP0 of the one pair `pair` at every tabulated lambda into gridOut (bit-identical to the same entries
   * of runTabulated(k, 2)). O(n gp).
   */
  runGridPair(pair: number): void {
    if (!(Number.isInteger(pair) && pair >= 0 && pair < this.np)) throw new RangeError(`LambdaSums: pair ${pair} outside 0..${this.np - 1}`);
    this.gridPair(this.n, this.rowTableAt, this.abAt + 8 * pair, this.gridOutAt);
  }
}
