//! VNN-LIB properties (the VNN-COMP subset).
//!
//! Accepted: `; comments`, `(declare-const X_i Real)` / `(declare-const Y_j Real)` (inputs `X`,
//! outputs `Y`, indices contiguous from 0), and `(assert F)` where `F` is `(and F…)`, `(or F…)`
//! or a comparison `(<= s t)` / `(>= s t)` between linear terms: a decimal, a declared variable,
//! `(+ t…)`, `(- t)`, `(- t t…)`, `(* c t)` / `(* t c)` with `c` a decimal.
//!
//! The asserts together describe the **unsafe** set: the property holds (`unsat`) when no input
//! in the region drives the network into it. The formula is put in disjunctive normal form; each
//! disjunct's input constraints must bound single input variables (a box), and its output
//! constraints become linear rows `c·y ≤ d`. Disjuncts with the same box are grouped into one
//! [`Case`].
//!
//! Numbers: decimals are kept as exact as `f64` allows and never rounded inward. Each decimal
//! becomes an enclosure `[lo, hi]` of its exact value (a point when the decimal is exactly an
//! `f64`, else the two neighbours of the correctly rounded value). A box is given twice: the
//! **outer** box (contains the exact box: use it to prove `unsat`) and the **inner** box (inside
//! the exact box: a counterexample drawn from it lies in the exact box).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A parse error, naming the file, the line and column (1-based) and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {msg}")]
pub struct VnnlibError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub msg: String,
}

/// An enclosure `[lo, hi]` of an exact real given as a decimal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Enclosure {
    pub lo: f64,
    pub hi: f64,
}

impl Enclosure {
    pub fn point(v: f64) -> Self {
        Enclosure { lo: v, hi: v }
    }
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }
    fn neg(self) -> Self {
        Enclosure {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
    fn add(self, o: Self) -> Self {
        if o == Enclosure::point(0.0) {
            return self;
        }
        if self == Enclosure::point(0.0) {
            return o;
        }
        let (lo, hi) = (self.lo + o.lo, self.hi + o.hi);
        if self.is_point() && o.is_point() && exact_sum(self.lo, o.lo, lo) {
            return Enclosure::point(lo);
        }
        Enclosure {
            lo: lo.next_down(),
            hi: hi.next_up(),
        }
    }
    fn mul(self, o: Self) -> Self {
        if o == Enclosure::point(1.0) {
            return self;
        }
        if o == Enclosure::point(-1.0) {
            return self.neg();
        }
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if self.is_point() && o.is_point() && lo.is_finite() && exact_product(self.lo, o.lo, lo) {
            return Enclosure::point(lo);
        }
        Enclosure {
            lo: lo.next_down(),
            hi: hi.next_up(),
        }
    }
    /// `self / o` for `o` not containing 0 (checked by the caller).
    fn div(self, o: Self) -> Self {
        if o.is_point() && o.lo == 1.0 {
            return self;
        }
        if o.is_point() && o.lo == -1.0 {
            return self.neg();
        }
        let c = [
            self.lo / o.lo,
            self.lo / o.hi,
            self.hi / o.lo,
            self.hi / o.hi,
        ];
        let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if self.is_point() && o.is_point() && lo.is_finite() && lo * o.lo == self.lo {
            // Exact when the product recovers the dividend and is itself exact.
            if exact_product(lo, o.lo, self.lo) {
                return Enclosure::point(lo);
            }
        }
        Enclosure {
            lo: lo.next_down(),
            hi: hi.next_up(),
        }
    }
}

/// Whether `a + b` was computed exactly as `s` (TwoSum error term is zero).
fn exact_sum(a: f64, b: f64, s: f64) -> bool {
    if !s.is_finite() {
        return false;
    }
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    err == 0.0
}

/// Whether `a · b` was computed exactly as `p` (FMA error term is zero; no underflow).
fn exact_product(a: f64, b: f64, p: f64) -> bool {
    p.is_finite() && a.mul_add(b, -p) == 0.0 && (p == 0.0 || p.abs() >= f64::MIN_POSITIVE)
}

/// One linear constraint `Σ coeffs[j]·Y_j ≤ rhs`, coefficients and bound as enclosures of the
/// file's exact values.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub coeffs: Vec<Enclosure>,
    pub rhs: Enclosure,
}

/// A conjunction of output constraints (empty: every output is unsafe).
pub type Conjunction = Vec<Constraint>;

/// An axis-aligned input region: outer bounds (contain the exact box) and inner bounds (inside
/// it).
#[derive(Clone, Debug, PartialEq)]
pub struct InputBox {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub inner_lower: Vec<f64>,
    pub inner_upper: Vec<f64>,
}

impl InputBox {
    /// Whether the exact box is certainly empty (some outer lower bound above its upper bound).
    pub fn is_empty(&self) -> bool {
        self.lower.iter().zip(&self.upper).any(|(l, u)| l > u)
    }
    /// Whether `x` lies in the exact box (checked against the inner bounds: sound, may reject a
    /// point within an ulp of a non-representable bound).
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.inner_lower.len()
            && (x.iter().zip(self.inner_lower.iter().zip(&self.inner_upper)))
                .all(|(v, (l, u))| l <= v && v <= u)
    }
}

/// One input box and the unsafe output set over it (a disjunction of conjunctions).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub input: InputBox,
    pub unsafe_set: Vec<Conjunction>,
}

/// A parsed property: the property holds iff for every case no input of the box reaches the
/// case's unsafe set.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    pub n_inputs: usize,
    pub n_outputs: usize,
    pub cases: Vec<Case>,
}

impl Constraint {
    /// Whether the point `y` certainly satisfies the constraint (exact value of `c·y ≤ d` for
    /// every real coefficient and bound in the enclosures, evaluated with outward rounding).
    pub fn surely_holds(&self, y: &[f64]) -> bool {
        let mut hi = Enclosure::point(0.0);
        for (c, v) in self.coeffs.iter().zip(y) {
            hi = hi.add(c.mul(Enclosure::point(*v)));
        }
        hi.hi <= self.rhs.lo
    }
}

/// The largest number of disjuncts the normal form may have.
pub const MAX_DISJUNCTS: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Pos {
    line: usize,
    column: usize,
}

#[derive(Debug)]
enum Sexp {
    Atom(String, Pos),
    List(Vec<Sexp>, Pos),
}

impl Sexp {
    fn pos(&self) -> Pos {
        match self {
            Sexp::Atom(_, p) | Sexp::List(_, p) => *p,
        }
    }
}

struct Parser<'a> {
    file: &'a str,
}

/// A linear term: coefficients by variable, and a constant.
#[derive(Clone, Debug)]
struct Linear {
    coeffs: BTreeMap<Var, Enclosure>,
    constant: Enclosure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Var {
    X(usize),
    Y(usize),
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::X(i) => write!(f, "X_{i}"),
            Var::Y(i) => write!(f, "Y_{i}"),
        }
    }
}

/// `linear ≤ 0`, with where it was written.
#[derive(Clone, Debug)]
struct Atom {
    lin: Linear,
    pos: Pos,
}

impl Parser<'_> {
    fn err(&self, pos: Pos, msg: impl Into<String>) -> VnnlibError {
        VnnlibError {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            msg: msg.into(),
        }
    }

    fn read(&self, text: &str) -> Result<Vec<Sexp>, VnnlibError> {
        let mut stack: Vec<(Vec<Sexp>, Pos)> = vec![];
        let mut top = vec![];
        let (mut line, mut column) = (1usize, 0usize);
        let mut chars = text.chars().peekable();
        let mut atom = String::new();
        let mut atom_pos = Pos { line, column };
        let flush = |atom: &mut String,
                     pos: Pos,
                     stack: &mut Vec<(Vec<Sexp>, Pos)>,
                     top: &mut Vec<Sexp>| {
            if !atom.is_empty() {
                let a = Sexp::Atom(std::mem::take(atom), pos);
                match stack.last_mut() {
                    Some((l, _)) => l.push(a),
                    None => top.push(a),
                }
            }
        };
        while let Some(c) = chars.next() {
            column += 1;
            let here = Pos { line, column };
            match c {
                ';' => {
                    flush(&mut atom, atom_pos, &mut stack, &mut top);
                    for d in chars.by_ref() {
                        if d == '\n' {
                            line += 1;
                            column = 0;
                            break;
                        }
                    }
                }
                '(' => {
                    flush(&mut atom, atom_pos, &mut stack, &mut top);
                    stack.push((vec![], here));
                }
                ')' => {
                    flush(&mut atom, atom_pos, &mut stack, &mut top);
                    let (items, p) = stack
                        .pop()
                        .ok_or_else(|| self.err(here, "unbalanced ')': no list is open"))?;
                    let l = Sexp::List(items, p);
                    match stack.last_mut() {
                        Some((parent, _)) => parent.push(l),
                        None => top.push(l),
                    }
                }
                c if c.is_whitespace() => {
                    flush(&mut atom, atom_pos, &mut stack, &mut top);
                    if c == '\n' {
                        line += 1;
                        column = 0;
                    }
                }
                c => {
                    if atom.is_empty() {
                        atom_pos = here;
                    }
                    atom.push(c);
                }
            }
        }
        flush(&mut atom, atom_pos, &mut stack, &mut top);
        if let Some((_, p)) = stack.last() {
            return Err(self.err(*p, "unbalanced '(': this list is never closed"));
        }
        Ok(top)
    }

    fn var(&self, name: &str, pos: Pos) -> Result<Option<Var>, VnnlibError> {
        let (kind, idx) = match name.split_once('_') {
            Some((k @ ("X" | "Y"), i)) => (k, i),
            _ => return Ok(None),
        };
        if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) || idx.len() > 9 {
            return Err(self.err(pos, format!("bad variable name '{name}'")));
        }
        let i: usize = idx
            .parse()
            .map_err(|_| self.err(pos, format!("bad variable name '{name}'")))?;
        Ok(Some(if kind == "X" { Var::X(i) } else { Var::Y(i) }))
    }

    fn term(
        &self,
        s: &Sexp,
        declared: &BTreeMap<Var, Pos>,
        depth: usize,
    ) -> Result<Linear, VnnlibError> {
        if depth > 200 {
            return Err(self.err(s.pos(), "term nested too deeply"));
        }
        match s {
            Sexp::Atom(a, p) => {
                if let Some(v) = self.var(a, *p)? {
                    if !declared.contains_key(&v) {
                        return Err(self.err(*p, format!("variable '{a}' is not declared")));
                    }
                    let mut coeffs = BTreeMap::new();
                    coeffs.insert(v, Enclosure::point(1.0));
                    return Ok(Linear {
                        coeffs,
                        constant: Enclosure::point(0.0),
                    });
                }
                let c = parse_decimal(a)
                    .ok_or_else(|| self.err(*p, format!("unknown identifier '{a}'")))?;
                Ok(Linear {
                    coeffs: BTreeMap::new(),
                    constant: c,
                })
            }
            Sexp::List(items, p) => {
                let (head, args) = match items.split_first() {
                    Some((Sexp::Atom(h, _), rest)) => (h.as_str(), rest),
                    _ => return Err(self.err(*p, "expected an arithmetic term")),
                };
                let lin: Vec<Linear> = args
                    .iter()
                    .map(|a| self.term(a, declared, depth + 1))
                    .collect::<Result<_, _>>()?;
                match (head, lin.len()) {
                    ("+", n) if n >= 1 => Ok(lin.into_iter().reduce(add_lin).unwrap_or_else(zero)),
                    ("-", 1) => Ok(scale(&lin[0], Enclosure::point(-1.0))),
                    ("-", n) if n >= 2 => {
                        let mut it = lin.into_iter();
                        let first = it.next().unwrap_or_else(zero);
                        Ok(it.fold(first, |acc, t| {
                            add_lin(acc, scale(&t, Enclosure::point(-1.0)))
                        }))
                    }
                    ("*", 2) => {
                        let (a, b) = (&lin[0], &lin[1]);
                        if a.coeffs.is_empty() {
                            Ok(scale(b, a.constant))
                        } else if b.coeffs.is_empty() {
                            Ok(scale(a, b.constant))
                        } else {
                            Err(self.err(*p, "'*' of two variables is not linear"))
                        }
                    }
                    ("+" | "-" | "*", n) => {
                        Err(self.err(*p, format!("'{head}' does not take {n} argument(s) here")))
                    }
                    _ => Err(self.err(*p, format!("unknown function '{head}' in a term"))),
                }
            }
        }
    }

    /// The formula in disjunctive normal form.
    fn formula(
        &self,
        s: &Sexp,
        declared: &BTreeMap<Var, Pos>,
        depth: usize,
    ) -> Result<Vec<Vec<Atom>>, VnnlibError> {
        if depth > 200 {
            return Err(self.err(s.pos(), "formula nested too deeply"));
        }
        let (items, p) = match s {
            Sexp::List(items, p) => (items, *p),
            Sexp::Atom(a, p) => return Err(self.err(*p, format!("expected a formula, got '{a}'"))),
        };
        let (head, args) = match items.split_first() {
            Some((Sexp::Atom(h, _), rest)) => (h.as_str(), rest),
            _ => return Err(self.err(p, "expected a formula '(op …)'")),
        };
        match head {
            "and" => {
                let mut acc: Vec<Vec<Atom>> = vec![vec![]];
                for a in args {
                    let d = self.formula(a, declared, depth + 1)?;
                    acc = self.product(acc, d, p)?;
                }
                Ok(acc)
            }
            "or" => {
                if args.is_empty() {
                    return Err(self.err(p, "'or' needs at least one disjunct"));
                }
                let mut acc = vec![];
                for a in args {
                    acc.extend(self.formula(a, declared, depth + 1)?);
                    if acc.len() > MAX_DISJUNCTS {
                        return Err(self.err(p, "more than 100000 disjuncts"));
                    }
                }
                Ok(acc)
            }
            "<=" | ">=" => {
                if args.len() != 2 {
                    return Err(
                        self.err(p, format!("'{head}' takes 2 arguments, got {}", args.len()))
                    );
                }
                let a = self.term(&args[0], declared, depth + 1)?;
                let b = self.term(&args[1], declared, depth + 1)?;
                let lin = if head == "<=" {
                    add_lin(a, scale(&b, Enclosure::point(-1.0)))
                } else {
                    add_lin(b, scale(&a, Enclosure::point(-1.0)))
                };
                Ok(vec![vec![Atom { lin, pos: p }]])
            }
            "<" | ">" | "=" | "not" | "=>" => Err(self.err(
                p,
                format!("'{head}' is outside the supported VNN-LIB subset (use <= / >=, and, or)"),
            )),
            _ => Err(self.err(p, format!("unknown formula operator '{head}'"))),
        }
    }

    fn product(
        &self,
        a: Vec<Vec<Atom>>,
        b: Vec<Vec<Atom>>,
        p: Pos,
    ) -> Result<Vec<Vec<Atom>>, VnnlibError> {
        if a.len().saturating_mul(b.len()) > MAX_DISJUNCTS {
            return Err(self.err(
                p,
                "the disjunctive normal form would have more than 100000 disjuncts",
            ));
        }
        let mut out = Vec::with_capacity(a.len() * b.len());
        for x in &a {
            for y in &b {
                let mut c = x.clone();
                c.extend(y.iter().cloned());
                out.push(c);
            }
        }
        Ok(out)
    }
}

fn zero() -> Linear {
    Linear {
        coeffs: BTreeMap::new(),
        constant: Enclosure::point(0.0),
    }
}

fn add_lin(mut a: Linear, b: Linear) -> Linear {
    for (v, c) in b.coeffs {
        let e = a.coeffs.entry(v).or_insert(Enclosure::point(0.0));
        *e = e.add(c);
    }
    a.constant = a.constant.add(b.constant);
    a
}

fn scale(a: &Linear, k: Enclosure) -> Linear {
    Linear {
        coeffs: a.coeffs.iter().map(|(v, c)| (*v, c.mul(k))).collect(),
        constant: a.constant.mul(k),
    }
}

/// A strict decimal (`[+-]digits[.digits][(e|E)[+-]digits]`) as an enclosure of its value; `None`
/// for anything else (including `inf`, `nan`, hex).
pub fn parse_decimal(s: &str) -> Option<Enclosure> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[f..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let es = i;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if d == i || i - d > 6 {
            return None;
        }
        exp = s[es..i].parse().ok()?;
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    if decimal_is_exact(int_digits, frac_digits, exp) {
        Some(Enclosure::point(v))
    } else {
        Some(Enclosure {
            lo: v.next_down(),
            hi: v.next_up(),
        })
    }
}

/// Whether `int.frac × 10^exp` is exactly an `f64` (normal range, 53-bit significand); `false`
/// when unsure.
fn decimal_is_exact(int: &str, frac: &str, exp: i64) -> bool {
    let digits: String = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let mut k = exp - frac.len() as i64;
    let mut d = digits.to_string();
    while d.ends_with('0') {
        d.pop();
        k += 1;
    }
    if d.is_empty() {
        return true; // zero
    }
    if d.len() > 38 {
        return false;
    }
    let Ok(mut m) = d.parse::<u128>() else {
        return false;
    };
    const LIMIT: u128 = 1 << 53;
    if k >= 0 {
        for _ in 0..k {
            m = match m.checked_mul(10) {
                Some(v) => v,
                None => return false,
            };
        }
        return m <= LIMIT;
    }
    // m / 10^|k| = (m / 5^|k|) / 2^|k|: exact iff 5^|k| divides m.
    let n = -k;
    if n > 1000 {
        return false;
    }
    for _ in 0..n {
        if m % 5 != 0 {
            return false;
        }
        m /= 5;
    }
    m <= LIMIT
}

/// Reads and parses a VNN-LIB file.
pub fn read_property(path: impl AsRef<Path>) -> Result<Property, VnnlibError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| VnnlibError {
        file: name.clone(),
        line: 0,
        column: 0,
        msg: format!("cannot read: {e}"),
    })?;
    parse_property(&text, &name)
}

/// Parses VNN-LIB text; `file` names it in errors.
pub fn parse_property(text: &str, file: &str) -> Result<Property, VnnlibError> {
    let p = Parser { file };
    let forms = p.read(text)?;
    let mut declared: BTreeMap<Var, Pos> = BTreeMap::new();
    let mut dnf: Vec<Vec<Atom>> = vec![vec![]];
    let mut any_assert = false;
    for form in &forms {
        let (items, pos) = match form {
            Sexp::List(items, pos) => (items, *pos),
            Sexp::Atom(a, pos) => {
                return Err(p.err(*pos, format!("expected a command '(…)', got '{a}'")))
            }
        };
        let head = match items.first() {
            Some(Sexp::Atom(h, _)) => h.as_str(),
            _ => return Err(p.err(pos, "expected a command name")),
        };
        match head {
            "declare-const" => {
                let [_, Sexp::Atom(name, npos), Sexp::Atom(sort, spos)] = items.as_slice() else {
                    return Err(p.err(pos, "expected (declare-const NAME Real)"));
                };
                let v = p.var(name, *npos)?.ok_or_else(|| {
                    p.err(*npos, format!("variable '{name}' must be named X_i or Y_j"))
                })?;
                if sort != "Real" {
                    return Err(p.err(*spos, format!("sort '{sort}' is not supported (only Real)")));
                }
                if declared.insert(v, *npos).is_some() {
                    return Err(p.err(*npos, format!("'{name}' is declared twice")));
                }
            }
            "assert" => {
                let [_, f] = items.as_slice() else {
                    return Err(p.err(pos, "expected (assert FORMULA)"));
                };
                let d = p.formula(f, &declared, 0)?;
                dnf = p.product(dnf, d, pos)?;
                any_assert = true;
            }
            "check-sat" | "get-model" | "set-logic" | "set-info" | "set-option" | "exit" => {}
            _ => return Err(p.err(pos, format!("unknown command '{head}'"))),
        }
    }
    let end = Pos { line: 1, column: 1 };
    let count = |want: fn(&Var) -> Option<usize>| -> Result<usize, VnnlibError> {
        let idx: Vec<(usize, Pos)> = declared
            .iter()
            .filter_map(|(v, pos)| want(v).map(|i| (i, *pos)))
            .collect();
        for (k, (i, pos)) in idx.iter().enumerate() {
            if *i != k {
                return Err(p.err(*pos, format!("variable index {i} skips index {k}")));
            }
        }
        Ok(idx.len())
    };
    let n_inputs = count(|v| match v {
        Var::X(i) => Some(*i),
        _ => None,
    })?;
    let n_outputs = count(|v| match v {
        Var::Y(i) => Some(*i),
        _ => None,
    })?;
    if n_inputs == 0 {
        return Err(p.err(end, "no input variable X_0 is declared"));
    }
    if n_outputs == 0 {
        return Err(p.err(end, "no output variable Y_0 is declared"));
    }
    if !any_assert {
        return Err(p.err(end, "no assert"));
    }
    let mut cases: Vec<Case> = vec![];
    for conj in dnf {
        let mut b = InputBox {
            lower: vec![f64::NEG_INFINITY; n_inputs],
            upper: vec![f64::INFINITY; n_inputs],
            inner_lower: vec![f64::NEG_INFINITY; n_inputs],
            inner_upper: vec![f64::INFINITY; n_inputs],
        };
        let mut rows: Conjunction = vec![];
        let mut first_pos = end;
        for atom in &conj {
            first_pos = atom.pos;
            let has_x = atom.lin.coeffs.keys().any(|v| matches!(v, Var::X(_)));
            let has_y = atom.lin.coeffs.keys().any(|v| matches!(v, Var::Y(_)));
            // lin ≤ 0, i.e. Σ c·v ≤ −constant.
            let rhs = atom.lin.constant.neg();
            match (has_x, has_y) {
                (true, true) => {
                    return Err(p.err(atom.pos, "a constraint mixes inputs and outputs"));
                }
                (true, false) => {
                    let nonzero: Vec<_> = atom
                        .lin
                        .coeffs
                        .iter()
                        .filter(|(_, c)| !(c.lo == 0.0 && c.hi == 0.0))
                        .collect();
                    let [(Var::X(i), c)] = nonzero.as_slice() else {
                        return Err(
                            p.err(atom.pos, "an input constraint must bound a single variable")
                        );
                    };
                    let i = *i;
                    if c.lo <= 0.0 && c.hi >= 0.0 {
                        return Err(p.err(atom.pos, "coefficient too close to zero"));
                    }
                    let q = rhs.div(**c);
                    if c.lo > 0.0 {
                        // x ≤ q
                        b.upper[i] = b.upper[i].min(q.hi);
                        b.inner_upper[i] = b.inner_upper[i].min(q.lo);
                    } else {
                        // x ≥ q
                        b.lower[i] = b.lower[i].max(q.lo);
                        b.inner_lower[i] = b.inner_lower[i].max(q.hi);
                    }
                }
                (false, true) => {
                    let mut coeffs = vec![Enclosure::point(0.0); n_outputs];
                    for (v, c) in &atom.lin.coeffs {
                        if let Var::Y(j) = v {
                            coeffs[*j] = *c;
                        }
                    }
                    rows.push(Constraint { coeffs, rhs });
                }
                (false, false) => {
                    // A constant comparison: true drops out, false drops the disjunct.
                    if rhs.lo >= 0.0 {
                        continue;
                    }
                    if rhs.hi < 0.0 {
                        rows.clear();
                        b.lower = vec![1.0; n_inputs];
                        b.upper = vec![0.0; n_inputs];
                        break;
                    }
                    return Err(p.err(atom.pos, "cannot decide a constant comparison"));
                }
            }
        }
        for i in 0..n_inputs {
            if !b.lower[i].is_finite() || !b.upper[i].is_finite() {
                return Err(p.err(
                    first_pos,
                    format!("input X_{i} is not bounded on both sides in some disjunct"),
                ));
            }
        }
        if let Some(c) = cases.iter_mut().find(|c| c.input == b) {
            c.unsafe_set.push(rows);
        } else {
            cases.push(Case {
                input: b,
                unsafe_set: vec![rows],
            });
        }
    }
    Ok(Property {
        n_inputs,
        n_outputs,
        cases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("0.5"), Some(Enclosure::point(0.5)));
        assert_eq!(parse_decimal("-3"), Some(Enclosure::point(-3.0)));
        assert_eq!(parse_decimal("1.25e2"), Some(Enclosure::point(125.0)));
        assert_eq!(parse_decimal("0.000"), Some(Enclosure::point(0.0)));
        let e = parse_decimal("0.1").unwrap();
        assert!(e.lo < 0.1 && 0.1 < e.hi);
        for bad in [
            "inf",
            "nan",
            "",
            "-",
            ".",
            "1e",
            "0x10",
            "1.2.3",
            "1e9999999",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
