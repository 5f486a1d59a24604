/**
 * The gpu.js programs of the gpujs backend, as data: a name, the kernel source (the JavaScript subset gpu.js
 * translates to WGSL), the argument types, and how many values each thread returns. Every program runs in
 * gpu.js's pipeline mode: its result stays on the device, where the next launch can read it, until the
 * backend reads it back.
 *
 * All operands are packed column-major f32 arrays indexed by hand, element (i, j) of an r-row matrix at
 * [i + j * r]; transposes are expressed as strides, so one program serves every variant and every size
 * (sizes and strides are uniforms, never baked into the shader). Every thread computes one output element
 * and accumulates in f32. gpu.js exposes no workgroup memory or barriers, so nothing here is tiled: these
 * are the straightforward one-thread-per-element kernels, and sequential algorithms (potrf, trsm) are
 * sequences of launches whose intermediate results stay on the device.
 *
 * Index arithmetic must stay in i32: gpu.js types every local variable f32 (exact only below 2^24), so the
 * sources use `this.thread.x` / `.y`, loop counters and Integer arguments directly inside index expressions
 * and never keep an index in a local.
 *
 * Kernel sources are strings on purpose: gpu.js parses the text of the function it is given, so a source
 * rewritten by a compiler or a coverage tool would change the shader.
 */

export interface GpuJsProgram {
  readonly name: string;
  readonly source: string;
  /** Argument name -> gpu.js type, in call order. */
  readonly argumentTypes: Readonly<Record<string, 'Array' | 'Integer' | 'Float'>>;
  /** Values each thread returns: 1 (a number) or 4 (a vec4, output element x covers rows 4x..4x+3). */
  readonly returns: 1 | 4;
}

/**
 * Rows handled by one thread in GEMM and SYRK: each thread returns a vec4 (gpu.js's widest return) of four
 * consecutive rows of one column, so every element of B it loads serves four multiply-adds (about 2x faster
 * than one row per thread on lavapipe). The host pads the row dimension of A (and C) to a multiple of 4.
 */
export const ROWS_PER_THREAD = 4;

/** The four row sums of GEMM and SYRK, declared and zeroed. */
const ZERO_SUMS = [0, 1, 2, 3].map((r) => `  let s${r} = 0.0;`).join('\n');

/**
 * Source lines shared by GEMM and SYRK: the four row sums s_r = sum_p A(4x + r, p) v(p) over p < k, with
 * A(i, p) = a[i*sRow + p*sDepth] and v(p) the expression `vector`, then s_r = alpha s_r (+ beta C(4x + r, y)
 * when useC = 1, C(i, j) = c[i + j*ldc]); s0..s3 are declared by the caller (ZERO_SUMS).
 */
function fourRowProduct(sRow: string, sDepth: string, vector: string, indent: string): string {
  const rows = [0, 1, 2, 3];
  const row = (r: number): string => `this.thread.x * 4${r === 0 ? '' : ` + ${r}`}`;
  return [
    'for (let p = 0; p < k; p++) {',
    `  const v = ${vector};`,
    ...rows.map((r) => `  s${r} += a[(${row(r)}) * ${sRow} + p * ${sDepth}] * v;`),
    '}',
    ...rows.map((r) => `s${r} = alpha * s${r};`),
    'if (useC == 1) {',
    ...rows.map((r) => `  s${r} += beta * c[${row(r)} + this.thread.y * ldc];`),
    '}',
  ].map((l) => indent + l).join('\n');
}

/**
 * C(i, j) = alpha * sum_p opA(i, p) opB(p, j) + beta * C(i, j) for rows i = 4x..4x+3 of column j
 * (thread.x = x, thread.y = j; output [m4 / 4, n] of vec4, m4 = m padded to a multiple of 4),
 * opA(i, p) = a[i*sAi + p*sAk] over the padded rows, opB(p, j) = b[p*sBk + j*sBj], C(i, j) = c[i + j*ldc]
 * read only when useC = 1. Cost 2mnk flops, f32 accumulation over k.
 */
export const GEMM: GpuJsProgram = {
  name: 'gemm',
  argumentTypes: {
    a: 'Array', b: 'Array', c: 'Array', k: 'Integer', ldc: 'Integer',
    sAi: 'Integer', sAk: 'Integer', sBk: 'Integer', sBj: 'Integer', alpha: 'Float', beta: 'Float', useC: 'Integer',
  },
  returns: 4,
  source: `function gemm(a, b, c, k, ldc, sAi, sAk, sBk, sBj, alpha, beta, useC) {
${ZERO_SUMS}
${fourRowProduct('sAi', 'sAk', 'b[p * sBk + this.thread.y * sBj]', '  ')}
  return [s0, s1, s2, s3];
}`,
};

/**
 * Lower triangle of C = alpha * X X^T + beta * C for rows i = 4x..4x+3 of column j (output [n4 / 4, n] of
 * vec4), X(i, p) = a[i*sI + p*sP] over rows padded to n4, C(i, j) = c[i + j*ldc]; a block entirely above
 * the diagonal returns zeros, and the host keeps only i >= j and mirrors it. Cost n^2 k flops (f32).
 */
export const SYRK: GpuJsProgram = {
  name: 'syrk',
  argumentTypes: {
    a: 'Array', c: 'Array', k: 'Integer', ldc: 'Integer', sI: 'Integer', sP: 'Integer',
    alpha: 'Float', beta: 'Float', useC: 'Integer',
  },
  returns: 4,
  source: `function syrk(a, c, k, ldc, sI, sP, alpha, beta, useC) {
${ZERO_SUMS}
  if (this.thread.x * 4 + 3 >= this.thread.y) {
${fourRowProduct('sI', 'sP', 'a[this.thread.y * sI + p * sP]', '    ')}
  }
  return [s0, s1, s2, s3];
}`,
};

/**
 * out[j] = sum_i w[i + j*wCol] * a[i + j*aCol] * b[i + j*bCol], i < n, output m (one thread per column);
 * xCol is the operand's leading dimension, or 0 to broadcast its single column. Cost 3nm flops (f32).
 */
export const BATCHED_WEIGHTED_DOT: GpuJsProgram = {
  name: 'batchedWeightedDot',
  argumentTypes: { w: 'Array', a: 'Array', b: 'Array', n: 'Integer', wCol: 'Integer', aCol: 'Integer', bCol: 'Integer' },
  returns: 1,
  source: `function batchedWeightedDot(w, a, b, n, wCol, aCol, bCol) {
  let s = 0.0;
  for (let i = 0; i < n; i++) {
    s += w[i + this.thread.x * wCol] * a[i + this.thread.x * aCol] * b[i + this.thread.x * bCol];
  }
  return s;
}`,
};

/** Columns per panel of the blocked Cholesky (POTRF_STEP on a panel, POTRF_TRAILING on the rest). */
export const POTRF_BLOCK = 32;

/**
 * Trailing update of blocked Cholesky: S'(i, c) = S(i + nb, c + nb) - sum_{q < nb} L(i + nb, q) L(c + nb, q)
 * for i >= c (0 above the diagonal), where S is the current trailing matrix and L its factored first nb
 * columns, both with leading dimension ld; output (ld - nb) x (ld - nb), packed. Cost (ld - nb)^2 nb flops.
 */
export const POTRF_TRAILING: GpuJsProgram = {
  name: 'potrfTrailing',
  argumentTypes: { s: 'Array', l: 'Array', ld: 'Integer', nb: 'Integer' },
  returns: 1,
  source: `function potrfTrailing(s, l, ld, nb) {
  let r = 0.0;
  if (this.thread.x >= this.thread.y) {
    r = s[this.thread.x + nb + (this.thread.y + nb) * ld];
    for (let q = 0; q < nb; q++) {
      r -= l[this.thread.x + nb + q * ld] * l[this.thread.y + nb + q * ld];
    }
  }
  return r;
}`,
};

/**
 * Step j of right-looking unblocked Cholesky on the n x n working matrix s (lower triangle read):
 * columns < j are final and copied; column j becomes L(:, j) = s(:, j) / sqrt(s(j, j)); the trailing lower
 * triangle gets the rank-1 update s(i, c) -= s(i, j) s(c, j) / s(j, j); the upper triangle is 0.
 * A pivot s(j, j) <= 0 is left on the diagonal as is (its column zeroed) for the host to report.
 * Run on an n x nb output it factors a panel: the first nb columns of an n x n (or taller) matrix with
 * leading dimension n. Cost (n - j)^2 / 2 flops per step.
 */
export const POTRF_STEP: GpuJsProgram = {
  name: 'potrfStep',
  argumentTypes: { s: 'Array', n: 'Integer', j: 'Integer' },
  returns: 1,
  source: `function potrfStep(s, n, j) {
  let r = 0.0;
  if (this.thread.x >= this.thread.y) {
    if (this.thread.y < j) {
      r = s[this.thread.x + this.thread.y * n];
    } else {
      const d = s[j + j * n];
      if (this.thread.y == j) {
        if (d > 0.0) {
          r = s[this.thread.x + j * n] / Math.sqrt(d);
        } else if (this.thread.x == j) {
          r = d;
        }
      } else {
        r = s[this.thread.x + this.thread.y * n] - s[this.thread.x + j * n] * s[this.thread.y + j * n] / d;
      }
    }
  }
  return r;
}`,
};

/** Rows per block of the blocked triangular solve (TRSM_STEP within a block, TRSM_TRAILING below it). */
export const TRSM_BLOCK = 32;

/**
 * Step j of the forward substitution S Y = C within a block of rows (Y initialised to alpha C on the host;
 * Y and the output ldY x r, only rows < ldY exist): row j becomes Y(j, :) / S(j, j), rows q > j get
 * Y(q, :) -= S(q, j) Y(j, :) / S(j, j), rows q < j are copied. S(q, i) = t[base + q*s1 + i*s2] is lower
 * triangular in this numbering (an upper triangle is reversed by the host through base and negative
 * strides); unit = 1 takes S(j, j) = 1. Cost 2 (ldY - j) r flops.
 */
export const TRSM_STEP: GpuJsProgram = {
  name: 'trsmStep',
  argumentTypes: { y: 'Array', t: 'Array', ldY: 'Integer', j: 'Integer', base: 'Integer', s1: 'Integer', s2: 'Integer', unit: 'Integer' },
  returns: 1,
  source: `function trsmStep(y, t, ldY, j, base, s1, s2, unit) {
  let d = 1.0;
  if (unit == 0) {
    d = t[base + j * s1 + j * s2];
  }
  const yj = y[j + this.thread.y * ldY] / d;
  let r = y[this.thread.x + this.thread.y * ldY];
  if (this.thread.x == j) {
    r = yj;
  } else if (this.thread.x > j) {
    r = r - t[base + this.thread.x * s1 + j * s2] * yj;
  }
  return r;
}`,
};

/**
 * Update of the rows below a solved block: Y'(q, c) = Y(q + nb, c) - sum_{i < nb} S(q + nb, i) D(i, c), where
 * Y (ldY x r) holds the rows from the block on, D (nb x r, ld nb) the block's solution, and S as in
 * TRSM_STEP; output (ldY - nb) x r, packed. Cost 2 (ldY - nb) nb r flops.
 */
export const TRSM_TRAILING: GpuJsProgram = {
  name: 'trsmTrailing',
  argumentTypes: { y: 'Array', d: 'Array', t: 'Array', ldY: 'Integer', nb: 'Integer', base: 'Integer', s1: 'Integer', s2: 'Integer' },
  returns: 1,
  source: `function trsmTrailing(y, d, t, ldY, nb, base, s1, s2) {
  let r = y[this.thread.x + nb + this.thread.y * ldY];
  for (let i = 0; i < nb; i++) {
    r -= t[base + (this.thread.x + nb) * s1 + i * s2] * d[i + this.thread.y * nb];
  }
  return r;
}`,
};

/** Copies a flat array into a device buffer once, so that a sequence of launches reads it without re-uploading. */
export const UPLOAD: GpuJsProgram = {
  name: 'upload',
  argumentTypes: { x: 'Array' },
  returns: 1,
  source: `function upload(x) {
  return x[this.thread.x];
}`,
};
