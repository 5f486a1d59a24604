/**
 * lme4 model formulas: tokenizer, parser and term expansion.
 *
 * Grammar (a subset of R's formula language as lme4 reads it):
 *   formula  := response '~' expr
 *   response := name | call                     (cbind(successes, failures) for binomial counts)
 *   expr     := sum (('+' | '-') sum)*  ...      precedence, low to high: + -, *, / , :
 *   atom     := name | number | call | '(' expr ')' | '(' expr ('|' | '||') group ')'
 *   call     := offset(name) | cbind(arith, arith) | coding
 *   coding   := factor(v [, levels = c(...)] [, ordered = TRUE|FALSE]) | as.factor(v) | ordered(v [, levels = c(...)])
 *             | relevel(v, ["ref" =] "level") | C(v, treatment|sum|helmert|poly)      (v: a name or a coding)
 * Factor codings are kept as steps applied inside out (as R evaluates the calls) and the variable is labelled
 * with R's deparse of the call, e.g. `relevel(Sex, "Male")`, which prefixes its model-matrix columns as in lme4.
 * Term expansion follows R's terms(): `a*b` = a + b + a:b, `a/b` = a + a:b, `- 1` / `0 +` drop the
 * intercept, terms ordered by degree; random terms `(x | g)`, `(x || g)` (split into uncorrelated terms, as
 * lme4's expandDoubleVerts), nested groups `(1 | a/b)` = `(1 | b:a) + (1 | a)`.
 */

/** A formula error that points at the character position in the formula text. */
export class FormulaError extends Error {
  override name = 'FormulaError';
  constructor(
    readonly formula: string,
    readonly position: number,
    detail: string,
  ) {
    super(`formula error at position ${position + 1}: ${detail}\n  ${formula}\n  ${' '.repeat(position)}^`);
  }
}

type TokenKind = 'name' | 'number' | 'string' | 'op' | '(' | ')' | ',' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z._]/.test(c)) {
      const m = /^[A-Za-z._][A-Za-z0-9._]*/.exec(src.slice(i))!;
      out.push({ kind: 'name', text: m[0], pos: i });
      i += m[0].length;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new FormulaError(src, i, 'unterminated back-quoted name');
      out.push({ kind: 'name', text: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        text += src[j]!;
        j++;
      }
      if (j >= src.length) throw new FormulaError(src, i, 'unterminated string');
      out.push({ kind: 'string', text, pos: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ kind: 'number', text: m[0], pos: i });
      i += m[0].length;
    } else if (c === '|' && src[i + 1] === '|') {
      out.push({ kind: 'op', text: '||', pos: i });
      i += 2;
    } else if ('~+-*/:|='.includes(c)) {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, text: c, pos: i });
      i++;
    } else {
      throw new FormulaError(src, i, `unexpected character '${c}'`);
    }
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

/** Expression tree of the right-hand side. */
type Node =
  | { type: 'var'; name: string; label: string; factor: boolean; coding: CodingStep[]; pos: number }
  | { type: 'num'; value: number; pos: number }
  | { type: 'offset'; name: string; pos: number }
  | { type: 'bin'; op: '+' | '-' | '*' | '/' | ':'; left: Node | null; right: Node; pos: number }
  | { type: 'bar'; double: boolean; lhs: Node; group: Node; pos: number };

/** Response: a column, or cbind(successes, failures) where each side is a sum/difference of columns. */
export type Response =
  | { kind: 'column'; name: string }
  | { kind: 'cbind'; successes: LinearCombo; failures: LinearCombo };

/** sum_k sign_k * column_k (for `size - incidence` inside cbind). */
export type LinearCombo = { name: string; sign: 1 | -1 }[];

/** Contrasts of a factor coded against the intercept (R's contr.treatment, contr.sum, contr.helmert, contr.poly). */
export type ContrastKind = 'treatment' | 'sum' | 'helmert' | 'poly';

/**
 * One step of a factor coding, applied inside out to the factor's levels (R's sorted levels at the start):
 * - levels: the level order of factor(x, levels = ...) (values not listed become missing, unused levels are
 *   dropped as lme4's model frame drops them);
 * - relevel: this level first (relevel(x, ref));
 * - ordered: an ordered factor (its default contrasts are poly) or not;
 * - contrasts: C(x, kind).
 */
export type CodingStep =
  | { kind: 'levels'; levels: string[] }
  | { kind: 'relevel'; ref: string }
  | { kind: 'ordered'; ordered: boolean }
  | { kind: 'contrasts'; contrasts: ContrastKind };

/** A variable of a term: a column, possibly made a factor with factor(x) and recoded (relevel, C, ...). */
export interface Variable {
  name: string;
  /** R's printed name: `x`, `factor(x)`, `relevel(x, "b")`, ... */
  label: string;
  forceFactor: boolean;
  /** Factor coding steps, applied in order (empty: R's default coding). */
  coding: CodingStep[];
}

/** An expanded model term: a product of variables (empty product is the intercept, never stored here). */
export type Term = Variable[];

/** Fixed or random-effects design in expanded form. */
export interface TermList {
  intercept: boolean;
  terms: Term[];
}

/** One random-effects term (x | g) after expansion: `group` lists the factors whose interaction groups. */
export interface RandomTerm {
  design: TermList;
  /** Grouping factors, e.g. ['cask', 'batch'] for `cask:batch`. */
  group: string[];
  /** lme4's name of the grouping factor: the factors joined with ':'. */
  groupName: string;
}

/** The parsed and expanded formula. */
export interface ParsedFormula {
  text: string;
  response: Response;
  fixed: TermList;
  random: RandomTerm[];
  offsets: string[];
}

class Parser {
  private k = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private peek(): Token {
    return this.toks[this.k]!;
  }
  private next(): Token {
    return this.toks[this.k++]!;
  }
  fail(pos: number, detail: string): never {
    throw new FormulaError(this.src, pos, detail);
  }
  private expect(kind: TokenKind, text?: string): Token {
    const t = this.next();
    if (t.kind !== kind || (text !== undefined && t.text !== text)) {
      this.fail(t.pos, `expected '${text ?? kind}' but found ${t.kind === 'end' ? 'end of formula' : `'${t.text}'`}`);
    }
    return t;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  parseFormula(): { response: Response; rhs: Node } {
    const response = this.parseResponse();
    this.expect('op', '~');
    const rhs = this.parseSum(false);
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t.pos, `unexpected '${t.text}'`);
    return { response, rhs };
  }

  private parseResponse(): Response {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '~') this.fail(t.pos, 'missing response before ~');
    const name = this.expect('name');
    if (this.peek().kind !== '(') return { kind: 'column', name: name.text };
    if (name.text !== 'cbind') this.fail(name.pos, `unsupported function '${name.text}' in the response (use a column or cbind(successes, failures))`);
    this.next();
    const successes = this.parseCombo();
    this.expect(',');
    const failures = this.parseCombo();
    this.expect(')');
    return { kind: 'cbind', successes, failures };
  }

  private parseCombo(): LinearCombo {
    const combo: LinearCombo = [{ name: this.expect('name').text, sign: 1 }];
    while (this.isOp('+') || this.isOp('-')) {
      const sign = this.next().text === '+' ? 1 : -1;
      combo.push({ name: this.expect('name').text, sign });
    }
    return combo;
  }

  /** sum := ['-'] product (('+' | '-') product)* */
  parseSum(inBar: boolean): Node {
    let left: Node | null = null;
    if (this.isOp('-')) {
      const pos = this.next().pos;
      left = { type: 'bin', op: '-', left: null, right: this.parseProduct(inBar), pos };
    } else {
      left = this.parseProduct(inBar);
    }
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { type: 'bin', op: t.text as '+' | '-', left, right: this.parseProduct(inBar), pos: t.pos };
    }
    return left;
  }

  private parseProduct(inBar: boolean): Node {
    let left = this.parseNest(inBar);
    while (this.isOp('*')) {
      const t = this.next();
      left = { type: 'bin', op: '*', left, right: this.parseNest(inBar), pos: t.pos };
    }
    return left;
  }

  private parseNest(inBar: boolean): Node {
    let left = this.parseInteraction(inBar);
    while (this.isOp('/')) {
      const t = this.next();
      left = { type: 'bin', op: '/', left, right: this.parseInteraction(inBar), pos: t.pos };
    }
    return left;
  }

  private parseInteraction(inBar: boolean): Node {
    let left = this.parseAtom(inBar);
    while (this.isOp(':')) {
      const t = this.next();
      left = { type: 'bin', op: ':', left, right: this.parseAtom(inBar), pos: t.pos };
    }
    return left;
  }

  private parseAtom(inBar: boolean): Node {
    const t = this.next();
    if (t.kind === 'number') {
      const v = Number(t.text);
      if (v !== 0 && v !== 1) this.fail(t.pos, `only 0 or 1 may appear as a number in a formula, found ${t.text}`);
      return { type: 'num', value: v, pos: t.pos };
    }
    if (t.kind === 'name') {
      if (this.peek().kind !== '(') return { type: 'var', name: t.text, label: t.text, factor: false, coding: [], pos: t.pos };
      if (t.text === 'offset') {
        this.next();
        const arg = this.expect('name');
        this.expect(')');
        return { type: 'offset', name: arg.text, pos: t.pos };
      }
      return this.parseCoding(t);
    }
    if (t.kind === '(') {
      const inner = this.parseSum(inBar);
      if (this.isOp('|') || this.isOp('||')) {
        if (inBar) this.fail(this.peek().pos, 'random-effects terms cannot be nested inside another');
        const bar = this.next();
        const group = this.parseSum(true);
        this.expect(')');
        return { type: 'bar', double: bar.text === '||', lhs: inner, group, pos: bar.pos };
      }
      this.expect(')');
      return inner;
    }
    if (t.kind === 'end') this.fail(t.pos, 'unexpected end of formula: a term is missing');
    return this.fail(t.pos, `unexpected '${t.text}'`);
  }

  /** A factor-coding call (see the grammar), its argument a column name or another coding call. */
  private parseCoding(fn: Token): Extract<Node, { type: 'var' }> {
    if (!CODING_CALLS.has(fn.text)) {
      this.fail(fn.pos, `unsupported function '${fn.text}' (supported: offset(x), factor(x), as.factor(x), ordered(x), relevel(x, "level"), C(x, sum|treatment|helmert|poly))`);
    }
    this.expect('(');
    const a = this.next();
    let inner: Extract<Node, { type: 'var' }>;
    if (a.kind === 'name' && this.peek().kind === '(') inner = this.parseCoding(a);
    else if (a.kind === 'name') inner = { type: 'var', name: a.text, label: a.text, factor: false, coding: [], pos: a.pos };
    else return this.fail(a.pos, `${fn.text}() needs a column name as its first argument`);
    const args: { name: string | null; value: CallValue; pos: number }[] = [];
    while (this.peek().kind === ',') {
      this.next();
      const at = this.peek();
      let name: string | null = null;
      if (at.kind === 'name' && this.toks[this.k + 1]?.kind === 'op' && this.toks[this.k + 1]!.text === '=') {
        name = this.next().text;
        this.next();
      }
      args.push({ name, value: this.parseValue(), pos: at.pos });
    }
    this.expect(')');
    const coding = inner.coding.slice();
    const arg = (names: string[], position: number) => args.find((x) => (x.name === null ? args.filter((y) => y.name === null).indexOf(x) === position : names.includes(x.name)));
    const known = (names: string[]) => {
      for (const x of args) if (x.name !== null && !names.includes(x.name)) this.fail(x.pos, `${fn.text}() has no argument '${x.name}' here (supported: ${names.join(', ')})`);
      const positional = args.filter((x) => x.name === null);
      if (positional.length > (fn.text === 'relevel' || fn.text === 'C' ? 1 : 0)) this.fail(positional.at(-1)!.pos, `${fn.text}(): too many unnamed arguments`);
    };
    switch (fn.text) {
      case 'factor':
      case 'as.factor':
      case 'ordered': {
        known(fn.text === 'as.factor' ? [] : fn.text === 'ordered' ? ['levels'] : ['levels', 'ordered']);
        const lv = arg(['levels'], -1);
        if (lv) coding.push({ kind: 'levels', levels: this.stringVector(lv.value, lv.pos, 'levels') });
        const ord = arg(['ordered'], -1);
        if (fn.text === 'ordered') coding.push({ kind: 'ordered', ordered: true });
        else if (ord) {
          if (ord.value.kind !== 'name' || !['TRUE', 'FALSE', 'T', 'F'].includes(ord.value.text)) this.fail(ord.pos, 'ordered = must be TRUE or FALSE');
          coding.push({ kind: 'ordered', ordered: ord.value.text.startsWith('T') });
        }
        break;
      }
      case 'relevel': {
        known(['ref']);
        const ref = arg(['ref'], 0);
        if (!ref) this.fail(fn.pos, 'relevel(x, "level") needs the reference level');
        if (ref.value.kind !== 'string' && ref.value.kind !== 'number') this.fail(ref.pos, 'relevel(): the reference level must be a quoted string (or a number)');
        coding.push({ kind: 'relevel', ref: ref.value.text });
        break;
      }
      case 'C': {
        known(['contr']);
        const c = arg(['contr'], 0);
        const kind = c && c.value.kind === 'name' ? CONTRASTS[c.value.text] : undefined;
        if (!c || !kind) this.fail(c?.pos ?? fn.pos, `C(x, contrasts): contrasts must be one of ${Object.keys(CONTRASTS).join(', ')}`);
        coding.push({ kind: 'contrasts', contrasts: kind });
        break;
      }
    }
    const label = `${fn.text}(${[inner.label, ...args.map((x) => (x.name === null ? '' : `${x.name} = `) + deparse(x.value))].join(', ')})`;
    return { type: 'var', name: inner.name, label, factor: true, coding, pos: inner.pos };
  }

  /** A call argument: a string, a number (with sign), a name, or c(...) of strings/numbers. */
  private parseValue(): CallValue {
    const t = this.next();
    if (t.kind === 'string') return { kind: 'string', text: t.text };
    if (t.kind === 'number') return { kind: 'number', text: String(Number(t.text)) };
    if (t.kind === 'op' && t.text === '-' && this.peek().kind === 'number') return { kind: 'number', text: String(-Number(this.next().text)) };
    if (t.kind === 'name' && t.text === 'c' && this.peek().kind === '(') {
      this.next();
      const items: CallValue[] = [];
      if (this.peek().kind !== ')') {
        items.push(this.parseValue());
        while (this.peek().kind === ',') {
          this.next();
          items.push(this.parseValue());
        }
      }
      this.expect(')');
      return { kind: 'vector', items };
    }
    if (t.kind === 'name') return { kind: 'name', text: t.text };
    return this.fail(t.pos, `expected a value (a quoted string, a number or c(...)) but found ${t.kind === 'end' ? 'end of formula' : `'${t.text}'`}`);
  }

  private stringVector(v: CallValue, pos: number, what: string): string[] {
    const items = v.kind === 'vector' ? v.items : [v];
    if (items.length === 0 || items.some((x) => x.kind !== 'string' && x.kind !== 'number')) this.fail(pos, `${what} = must be c("a", "b", ...) of quoted strings or numbers`);
    const out = items.map((x) => (x as { text: string }).text);
    const dup = out.find((x, i) => out.indexOf(x) !== i);
    if (dup !== undefined) this.fail(pos, `${what} = lists "${dup}" twice`);
    return out;
  }
}

/** Calls that code a factor. */
const CODING_CALLS = new Set(['factor', 'as.factor', 'ordered', 'relevel', 'C']);

/** C()'s contrast names, R's and short. */
const CONTRASTS: Record<string, ContrastKind> = {
  treatment: 'treatment', sum: 'sum', helmert: 'helmert', poly: 'poly',
  'contr.treatment': 'treatment', 'contr.sum': 'sum', 'contr.helmert': 'helmert', 'contr.poly': 'poly',
};

/** A literal argument of a coding call. */
type CallValue = { kind: 'string' | 'number' | 'name'; text: string } | { kind: 'vector'; items: CallValue[] };

/** R's deparse of an argument: strings double-quoted, c(a, b). */
function deparse(v: CallValue): string {
  if (v.kind === 'vector') return `c(${v.items.map(deparse).join(', ')})`;
  if (v.kind === 'string') return JSON.stringify(v.text);
  return v.text;
}

/** Terms in R's terms() sense: an intercept flag and products of variables, keyed for set semantics. */
interface Expansion {
  intercept: boolean | null;
  terms: Term[];
  bars: { node: Extract<Node, { type: 'bar' }> }[];
  offsets: string[];
}

const termKey = (t: Term): string =>
  t
    .map((v) => v.label)
    .slice()
    .sort()
    .join(':');

function mergeTerms(a: Term[], b: Term[]): Term[] {
  const seen = new Set(a.map(termKey));
  const out = a.slice();
  for (const t of b) {
    if (!seen.has(termKey(t))) {
      seen.add(termKey(t));
      out.push(t);
    }
  }
  return out;
}

function product(a: Term[], b: Term[]): Term[] {
  const out: Term[] = [];
  for (const x of a) {
    for (const y of b) {
      const t = x.slice();
      for (const v of y) if (!t.some((w) => w.label === v.label)) t.push(v);
      out.push(t);
    }
  }
  return mergeTerms([], out);
}

function expand(node: Node, p: Parser): Expansion {
  const none = (): Expansion => ({ intercept: null, terms: [], bars: [], offsets: [] });
  switch (node.type) {
    case 'num':
      return { ...none(), intercept: node.value === 1 };
    case 'var':
      return { ...none(), terms: [[{ name: node.name, label: node.label, forceFactor: node.factor, coding: node.coding }]] };
    case 'offset':
      return { ...none(), offsets: [node.name] };
    case 'bar':
      return { ...none(), bars: [{ node }] };
    case 'bin': {
      const r = expand(node.right, p);
      if (node.left === null) {
        // unary minus: only `-1` / `-0` make sense at the start
        if (r.terms.length || r.bars.length) p.fail(node.pos, 'a leading minus may only remove the intercept (- 1)');
        return { ...none(), intercept: r.intercept === null ? null : !r.intercept };
      }
      const l = expand(node.left, p);
      const join = (terms: Term[], intercept: boolean | null): Expansion => ({
        intercept,
        terms,
        bars: l.bars.concat(r.bars),
        offsets: l.offsets.concat(r.offsets),
      });
      switch (node.op) {
        case '+':
          return join(mergeTerms(l.terms, r.terms), r.intercept ?? l.intercept);
        case '-': {
          const drop = new Set(r.terms.map(termKey));
          if (r.bars.length) p.fail(node.pos, 'random-effects terms cannot be subtracted');
          return { ...join(l.terms.filter((t) => !drop.has(termKey(t))), r.intercept === null ? l.intercept : !r.intercept), bars: l.bars };
        }
        case ':':
        case '*':
        case '/': {
          if (l.bars.length || r.bars.length || l.intercept !== null || r.intercept !== null) {
            p.fail(node.pos, `'${node.op}' needs variables on both sides`);
          }
          if (node.op === ':') return join(product(l.terms, r.terms), null);
          if (node.op === '*') return join(mergeTerms(mergeTerms(l.terms, r.terms), product(l.terms, r.terms)), null);
          const all: Term = [];
          for (const t of l.terms) for (const v of t) if (!all.some((w) => w.label === v.label)) all.push(v);
          return join(mergeTerms(l.terms, product([all], r.terms)), null);
        }
      }
    }
  }
}

/** R's term order: by degree (number of variables), stable within a degree. */
function byDegree(terms: Term[]): Term[] {
  return terms
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.length - b.t.length || a.i - b.i)
    .map((x) => x.t);
}

function groupFactors(node: Node, p: Parser): string[][] {
  // (1 | a/b) -> groups [b, a] (lme4 names it b:a) and [a]; (1 | a:b) -> [a, b]
  const flat = (n: Node): string[] => {
    if (n.type === 'var') return [n.name];
    if (n.type === 'bin' && n.op === ':' && n.left) return flat(n.left).concat(flat(n.right));
    return p.fail(n.pos, 'a grouping factor must be a column or an interaction a:b of columns');
  };
  if (node.type === 'bin' && node.op === '/' && node.left) {
    const outer = groupFactors(node.left, p);
    const inner = flat(node.right);
    const last = outer[outer.length - 1]!;
    return outer.concat([inner.concat(last)]);
  }
  return [flat(node)];
}

/**
 * Parses an lme4 formula and expands it to fixed terms, random terms and offsets.
 * Throws {@link FormulaError} with the position of the offending character.
 */
export function parseFormula(text: string): ParsedFormula {
  if (typeof text !== 'string' || text.trim() === '') throw new FormulaError(String(text), 0, 'empty formula');
  const p = new Parser(text, tokenize(text));
  const { response, rhs } = p.parseFormula();
  const e = expand(rhs, p);
  const random: RandomTerm[] = [];
  for (const { node } of e.bars) {
    const lhs = expand(node.lhs, p);
    if (lhs.bars.length || lhs.offsets.length) p.fail(node.pos, 'the left side of | must be a fixed-effects expression');
    const intercept = lhs.intercept ?? true;
    const terms = byDegree(lhs.terms);
    const design: TermList = { intercept, terms };
    for (const group of groupFactors(node.group, p)) {
      const groupName = group.join(':');
      if (node.double) {
        // expandDoubleVerts: (x || g) -> (1 | g) + (0 + x | g)
        if (intercept) random.push({ design: { intercept: true, terms: [] }, group, groupName });
        for (const t of terms) random.push({ design: { intercept: false, terms: [t] }, group, groupName });
      } else {
        random.push({ design, group, groupName });
      }
    }
  }
  return {
    text,
    response,
    fixed: { intercept: e.intercept ?? true, terms: byDegree(e.terms) },
    random: reorderNested(random),
    offsets: e.offsets,
  };
}

/** lme4 expands a/b as (b:a) + (a): within each bar, the innermost grouping comes first. */
function reorderNested(random: RandomTerm[]): RandomTerm[] {
  const out: RandomTerm[] = [];
  let i = 0;
  while (i < random.length) {
    let j = i + 1;
    // the terms of one slash expression share their design object
    while (j < random.length && random[j]!.design === random[i]!.design) j++;
    out.push(...random.slice(i, j).reverse());
    i = j;
  }
  return out;
}
