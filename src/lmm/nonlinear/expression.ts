/**
 * A safe parser and evaluator for nonlinear model expressions (R syntax), with exact first derivatives by
 * forward-mode differentiation: no `eval`, no property access, only arithmetic on named variables.
 *
 *   expr  := term (('+' | '-') term)*
 *   term  := unary (('*' | '/') unary)*
 *   unary := ('-' | '+') unary | power          (R: -2^2 = -4)
 *   power := atom (('^' | '**') unary)?         (right-associative)
 *   atom  := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
 *
 * Functions: exp, log, sqrt, sin, cos, tan, abs, expm1, log1p; and nlme's self-starting models, expanded to
 * their formulas (R's stats package):
 *   SSfol(Dose, input, lKe, lKa, lCl) = Dose exp(lKe + lKa - lCl) (exp(-exp(lKe) input) - exp(-exp(lKa) input))
 *                                       / (exp(lKa) - exp(lKe))     (one-compartment, first-order absorption)
 *   SSlogis(input, Asym, xmid, scal)  = Asym / (1 + exp((xmid - input) / scal))
 *   SSasymp(input, Asym, R0, lrc)     = Asym + (R0 - Asym) exp(-exp(lrc) input)
 *   SSbiexp(input, A1, lrc1, A2, lrc2) = A1 exp(-exp(lrc1) input) + A2 exp(-exp(lrc2) input)
 * Evaluation is vectorised over rows: each node yields its n values and, for each of the K parameters, its n
 * derivatives (or nothing where it does not depend on that parameter). Cost O(nodes n K).
 */

/** Error in an expression: the position (0-based) and what was expected. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
  constructor(
    readonly expression: string,
    readonly position: number,
    detail: string,
  ) {
    super(`expression error at position ${position + 1}: ${detail}\n  ${expression}\n  ${' '.repeat(position)}^`);
  }
}

export type ExprNode =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'var'; name: string; pos: number }
  | { kind: 'neg'; arg: ExprNode; pos: number }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '^'; left: ExprNode; right: ExprNode; pos: number }
  | { kind: 'call'; fn: string; args: ExprNode[]; pos: number };

const FUNCTIONS = ['exp', 'log', 'sqrt', 'sin', 'cos', 'tan', 'abs', 'expm1', 'log1p'] as const;
type Fn = (typeof FUNCTIONS)[number];

/** Self-starting model templates: argument names and the formula in terms of them. */
const MACROS: Record<string, { args: string[]; body: string }> = {
  SSfol: { args: ['Dose', 'input', 'lKe', 'lKa', 'lCl'], body: 'Dose * exp(lKe + lKa - lCl) * (exp(-exp(lKe) * input) - exp(-exp(lKa) * input)) / (exp(lKa) - exp(lKe))' },
  SSlogis: { args: ['input', 'Asym', 'xmid', 'scal'], body: 'Asym / (1 + exp((xmid - input) / scal))' },
  SSasymp: { args: ['input', 'Asym', 'R0', 'lrc'], body: 'Asym + (R0 - Asym) * exp(-exp(lrc) * input)' },
  SSbiexp: { args: ['input', 'A1', 'lrc1', 'A2', 'lrc2'], body: 'A1 * exp(-exp(lrc1) * input) + A2 * exp(-exp(lrc2) * input)' },
};

interface Tok {
  kind: 'num' | 'name' | 'op' | 'end';
  text: string;
  pos: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'num', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_.][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: 'name', text: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    if (src.startsWith('**', i)) {
      out.push({ kind: 'op', text: '^', pos: i });
      i += 2;
      continue;
    }
    if ('+-*/^(),'.includes(c)) {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    throw new ExpressionError(src, i, `unexpected character '${c}'`);
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

class Parser {
  private k = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}
  private peek(): Tok {
    return this.toks[this.k]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private expect(text: string): void {
    if (!this.isOp(text)) this.fail(this.peek().pos, `expected '${text}'`);
    this.k++;
  }
  fail(pos: number, detail: string): never {
    throw new ExpressionError(this.src, pos, detail);
  }
  parseAll(): ExprNode {
    const e = this.expr();
    if (this.peek().kind !== 'end') this.fail(this.peek().pos, `unexpected '${this.peek().text}'`);
    return e;
  }
  private expr(): ExprNode {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.toks[this.k++]!;
      left = { kind: 'bin', op: t.text as '+' | '-', left, right: this.term(), pos: t.pos };
    }
    return left;
  }
  private term(): ExprNode {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const t = this.toks[this.k++]!;
      left = { kind: 'bin', op: t.text as '*' | '/', left, right: this.unary(), pos: t.pos };
    }
    return left;
  }
  private unary(): ExprNode {
    if (this.isOp('-')) {
      const pos = this.toks[this.k++]!.pos;
      return { kind: 'neg', arg: this.unary(), pos };
    }
    if (this.isOp('+')) {
      this.k++;
      return this.unary();
    }
    return this.power();
  }
  private power(): ExprNode {
    const base = this.atom();
    if (this.isOp('^')) {
      const pos = this.toks[this.k++]!.pos;
      return { kind: 'bin', op: '^', left: base, right: this.unary(), pos };
    }
    return base;
  }
  private atom(): ExprNode {
    const t = this.peek();
    if (t.kind === 'num') {
      this.k++;
      return { kind: 'num', value: Number(t.text), pos: t.pos };
    }
    if (t.kind === 'name') {
      this.k++;
      if (!this.isOp('(')) return { kind: 'var', name: t.text, pos: t.pos };
      this.k++;
      const args: ExprNode[] = [this.expr()];
      while (this.isOp(',')) {
        this.k++;
        args.push(this.expr());
      }
      this.expect(')');
      return this.call(t, args);
    }
    if (this.isOp('(')) {
      this.k++;
      const e = this.expr();
      this.expect(')');
      return e;
    }
    return this.fail(t.pos, t.kind === 'end' ? 'the expression ends too early' : `unexpected '${t.text}'`);
  }
  private call(t: Tok, args: ExprNode[]): ExprNode {
    const macro = MACROS[t.text];
    if (macro) {
      if (args.length !== macro.args.length) this.fail(t.pos, `${t.text}(${macro.args.join(', ')}) takes ${macro.args.length} arguments, got ${args.length}`);
      const bound = new Map(macro.args.map((a, i) => [a, args[i]!]));
      return substitute(parseExpression(macro.body), bound, t.pos);
    }
    if (!(FUNCTIONS as readonly string[]).includes(t.text)) {
      this.fail(t.pos, `unknown function '${t.text}' (functions: ${FUNCTIONS.join(', ')}; models: ${Object.keys(MACROS).join(', ')})`);
    }
    if (args.length !== 1) this.fail(t.pos, `${t.text}() takes one argument, got ${args.length}`);
    return { kind: 'call', fn: t.text, args, pos: t.pos };
  }
}

/** The template's variables replaced by the call's argument expressions; positions point at the call. */
function substitute(node: ExprNode, bound: Map<string, ExprNode>, pos: number): ExprNode {
  switch (node.kind) {
    case 'num':
      return { ...node, pos };
    case 'var':
      return bound.get(node.name) ?? { ...node, pos };
    case 'neg':
      return { kind: 'neg', arg: substitute(node.arg, bound, pos), pos };
    case 'bin':
      return { kind: 'bin', op: node.op, left: substitute(node.left, bound, pos), right: substitute(node.right, bound, pos), pos };
    case 'call':
      return { kind: 'call', fn: node.fn, args: node.args.map((a) => substitute(a, bound, pos)), pos };
  }
}

/** Parses an expression (R syntax, above). Throws ExpressionError with the position. */
export function parseExpression(text: string): ExprNode {
  if (typeof text !== 'string' || text.trim() === '') throw new ExpressionError(String(text), 0, 'empty expression');
  return new Parser(text, tokenize(text)).parseAll();
}

/** Every variable name the expression reads, in order of first appearance. */
export function expressionVariables(node: ExprNode): string[] {
  const seen = new Set<string>();
  const walk = (e: ExprNode): void => {
    if (e.kind === 'var') seen.add(e.name);
    else if (e.kind === 'neg') walk(e.arg);
    else if (e.kind === 'bin') {
      walk(e.left);
      walk(e.right);
    } else if (e.kind === 'call') e.args.forEach(walk);
  };
  walk(node);
  return [...seen];
}

/** A node's values and its derivatives in each parameter (null: identically zero). */
interface Dual {
  v: Float64Array;
  d: (Float64Array | null)[];
}

/** The values f and the derivatives df/dparameter_k of an expression on n rows. */
export interface Evaluation {
  value: Float64Array;
  /** one array per parameter (zeros where f does not depend on it) */
  gradient: Float64Array[];
}

/**
 * An expression bound to its parameters (differentiated) and covariates (data columns): every other variable
 * name is an error listing the known ones.
 */
export class CompiledExpression {
  readonly covariates: string[];
  constructor(
    readonly text: string,
    readonly root: ExprNode,
    readonly parameters: readonly string[],
    columns: readonly string[],
  ) {
    const vars = expressionVariables(root);
    const known = new Set([...parameters, ...columns]);
    const find = (name: string): number => {
      const walk = (e: ExprNode): number => {
        if (e.kind === 'var') return e.name === name ? e.pos : -1;
        const kids = e.kind === 'neg' ? [e.arg] : e.kind === 'bin' ? [e.left, e.right] : e.kind === 'call' ? e.args : [];
        for (const k of kids) {
          const p = walk(k);
          if (p >= 0) return p;
        }
        return -1;
      };
      return walk(root);
    };
    for (const v of vars) {
      if (!known.has(v)) throw new ExpressionError(text, Math.max(0, find(v)), `'${v}' is neither a parameter (${parameters.join(', ')}) nor a data column (${columns.join(', ')})`);
    }
    this.covariates = vars.filter((v) => !parameters.includes(v));
  }

  /**
   * f and its parameter derivatives on n rows: `params[k]` holds parameter k's value per row, `data` the
   * covariates' columns. O(nodes n K).
   */
  evaluate(params: readonly Float64Array[], data: ReadonlyMap<string, Float64Array>, n: number): Evaluation {
    const K = this.parameters.length;
    const index = new Map(this.parameters.map((p, k) => [p, k]));
    const ev = (e: ExprNode): Dual => {
      switch (e.kind) {
        case 'num':
          return { v: new Float64Array(n).fill(e.value), d: new Array(K).fill(null) };
        case 'var': {
          const k = index.get(e.name);
          if (k !== undefined) {
            const d: (Float64Array | null)[] = new Array(K).fill(null);
            d[k] = new Float64Array(n).fill(1);
            return { v: params[k]!, d };
          }
          return { v: data.get(e.name)!, d: new Array(K).fill(null) };
        }
        case 'neg': {
          const a = ev(e.arg);
          return { v: a.v.map((x) => -x), d: a.d.map((g) => g && g.map((x) => -x)) };
        }
        case 'bin':
          return binary(e.op, ev(e.left), ev(e.right), n);
        case 'call':
          return unaryFn(e.fn as Fn, ev(e.args[0]!), n);
      }
    };
    const r = ev(this.root);
    return { value: Float64Array.from(r.v), gradient: r.d.map((g) => (g ? Float64Array.from(g) : new Float64Array(n))) };
  }
}

/** Combines two derivative lists entrywise: fa * da + fb * db (either may be null). */
function combine(n: number, da: (Float64Array | null)[], ca: ((i: number) => number) | null, db: (Float64Array | null)[], cb: ((i: number) => number) | null): (Float64Array | null)[] {
  return da.map((ga, k) => {
    const gb = db[k]!;
    const useA = ga && ca;
    const useB = gb && cb;
    if (!useA && !useB) return null;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (useA ? ca!(i) * ga![i]! : 0) + (useB ? cb!(i) * gb![i]! : 0);
    return out;
  });
}

function binary(op: '+' | '-' | '*' | '/' | '^', a: Dual, b: Dual, n: number): Dual {
  const v = new Float64Array(n);
  const av = a.v;
  const bv = b.v;
  switch (op) {
    case '+':
      for (let i = 0; i < n; i++) v[i] = av[i]! + bv[i]!;
      return { v, d: combine(n, a.d, () => 1, b.d, () => 1) };
    case '-':
      for (let i = 0; i < n; i++) v[i] = av[i]! - bv[i]!;
      return { v, d: combine(n, a.d, () => 1, b.d, () => -1) };
    case '*':
      for (let i = 0; i < n; i++) v[i] = av[i]! * bv[i]!;
      return { v, d: combine(n, a.d, (i) => bv[i]!, b.d, (i) => av[i]!) };
    case '/':
      for (let i = 0; i < n; i++) v[i] = av[i]! / bv[i]!;
      // d(a/b) = da / b - (a / b^2) db
      return { v, d: combine(n, a.d, (i) => 1 / bv[i]!, b.d, (i) => -v[i]! / bv[i]!) };
    case '^': {
      for (let i = 0; i < n; i++) v[i] = av[i]! ** bv[i]!;
      // d(a^b) = b a^(b-1) da + a^b log(a) db
      return { v, d: combine(n, a.d, (i) => bv[i]! * av[i]! ** (bv[i]! - 1), b.d, (i) => v[i]! * Math.log(av[i]!)) };
    }
  }
}

function unaryFn(fn: Fn, a: Dual, n: number): Dual {
  const x = a.v;
  const v = new Float64Array(n);
  let dv: (i: number) => number;
  switch (fn) {
    case 'exp':
      for (let i = 0; i < n; i++) v[i] = Math.exp(x[i]!);
      dv = (i) => v[i]!;
      break;
    case 'expm1':
      for (let i = 0; i < n; i++) v[i] = Math.expm1(x[i]!);
      dv = (i) => v[i]! + 1;
      break;
    case 'log':
      for (let i = 0; i < n; i++) v[i] = Math.log(x[i]!);
      dv = (i) => 1 / x[i]!;
      break;
    case 'log1p':
      for (let i = 0; i < n; i++) v[i] = Math.log1p(x[i]!);
      dv = (i) => 1 / (1 + x[i]!);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) v[i] = Math.sqrt(x[i]!);
      dv = (i) => 0.5 / v[i]!;
      break;
    case 'sin':
      for (let i = 0; i < n; i++) v[i] = Math.sin(x[i]!);
      dv = (i) => Math.cos(x[i]!);
      break;
    case 'cos':
      for (let i = 0; i < n; i++) v[i] = Math.cos(x[i]!);
      dv = (i) => -Math.sin(x[i]!);
      break;
    case 'tan':
      for (let i = 0; i < n; i++) v[i] = Math.tan(x[i]!);
      dv = (i) => 1 + v[i]! * v[i]!;
      break;
    case 'abs':
      for (let i = 0; i < n; i++) v[i] = Math.abs(x[i]!);
      dv = (i) => Math.sign(x[i]!);
      break;
  }
  return { v, d: combine(n, a.d, dv, a.d.map(() => null), null) };
}
