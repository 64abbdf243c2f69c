//! Lowering an imported ONNX graph to alternating exact affine maps and ReLUs.
//!
//! Every node is evaluated symbolically as an affine function of the current *source* (the
//! network input, or the output of the latest ReLU): one sparse row of exact dyadic
//! coefficients plus a constant per element. Constants are affine values with no source. A
//! ReLU closes the current map; whatever is not affine or ReLU is rejected by name.

use crate::exact::{Dyadic, Matrix};
use num_traits::{Signed, Zero};
use std::collections::BTreeMap;
use strata_ir::{Graph, Node, Op};
use strata_tensor::Tensor;

/// One affine map `z = A·h + b`, with `A` as `rows × cols` (`rows` outputs).
#[derive(Clone, Debug)]
pub struct Affine {
    pub weight: Matrix,
    pub bias: Vec<Dyadic>,
}

impl Affine {
    pub fn rows(&self) -> usize {
        self.weight.rows
    }
    pub fn cols(&self) -> usize {
        self.weight.cols
    }
}

/// `x → A_0 → relu → A_1 → … → relu → A_L → y`: `maps[k]` produces ReLU layer `k`'s
/// pre-activations for `k < L` and the output for `k = L`.
#[derive(Clone, Debug)]
pub struct Network {
    pub maps: Vec<Affine>,
}

impl Network {
    pub fn input_dim(&self) -> usize {
        self.maps[0].cols()
    }
    pub fn output_dim(&self) -> usize {
        self.maps.last().map_or(0, Affine::rows)
    }
    /// Number of ReLU layers.
    pub fn relu_layers(&self) -> usize {
        self.maps.len() - 1
    }
    /// Width of ReLU layer `k`.
    pub fn width(&self, k: usize) -> usize {
        self.maps[k].rows()
    }
}

/// A network the checker cannot lower, naming the node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: node {node}: {msg}")]
pub struct LowerError {
    pub file: String,
    pub node: String,
    pub msg: String,
}

/// An affine function of source `src` (None: a constant), per element in row-major order.
#[derive(Clone, Debug)]
struct Value {
    src: Option<usize>,
    shape: Vec<usize>,
    rows: Vec<Vec<(u32, Dyadic)>>,
    consts: Vec<Dyadic>,
}

impl Value {
    fn constant(t: &Tensor) -> Value {
        let consts: Vec<Dyadic> = t.to_vec_f64().into_iter().map(Dyadic::from_f64).collect();
        Value {
            src: None,
            shape: t.dims().to_vec(),
            rows: vec![Vec::new(); consts.len()],
            consts,
        }
    }

    fn identity(src: usize, n: usize, shape: Vec<usize>) -> Value {
        Value {
            src: Some(src),
            shape,
            rows: (0..n as u32)
                .map(|i| vec![(i, Dyadic::from_int(1))])
                .collect(),
            consts: vec![Dyadic::zero(); n],
        }
    }

    fn numel(&self) -> usize {
        self.consts.len()
    }
}

/// `Σ coef · value[elem]` over `terms`: one row and one constant.
fn combine(
    value: &Value,
    terms: impl Iterator<Item = (usize, Dyadic)>,
    dense: &mut [Dyadic],
    touched: &mut Vec<u32>,
) -> (Vec<(u32, Dyadic)>, Dyadic) {
    let mut constant = Dyadic::zero();
    for (elem, coef) in terms {
        if coef.mant.is_zero() {
            continue;
        }
        constant = constant.add(&value.consts[elem].mul(&coef));
        for (col, a) in &value.rows[elem] {
            let slot = &mut dense[*col as usize];
            if slot.mant.is_zero() {
                touched.push(*col);
            }
            *slot = slot.add(&a.mul(&coef));
        }
    }
    touched.sort_unstable();
    touched.dedup();
    let row = touched
        .drain(..)
        .filter_map(|c| {
            let v = std::mem::replace(&mut dense[c as usize], Dyadic::zero());
            (!v.mant.is_zero()).then_some((c, v))
        })
        .collect();
    (row, constant)
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For each flat index of `to`, the flat index of `from` it reads under NumPy broadcasting.
fn broadcast_map(from: &[usize], to: &[usize]) -> Option<Vec<usize>> {
    if from.len() > to.len() {
        return None;
    }
    let lead = to.len() - from.len();
    let (fs, ts) = (strides(from), strides(to));
    for (k, &d) in from.iter().enumerate() {
        if d != 1 && d != to[lead + k] {
            return None;
        }
    }
    let n: usize = to.iter().product();
    Some(
        (0..n)
            .map(|flat| {
                let mut src = 0;
                for (k, &d) in from.iter().enumerate() {
                    let idx = (flat / ts[lead + k]) % to[lead + k];
                    if d != 1 {
                        src += idx * fs[k];
                    }
                }
                src
            })
            .collect(),
    )
}

struct Lowering<'a> {
    file: &'a str,
    params: &'a BTreeMap<String, Tensor>,
    maps: Vec<Affine>,
    /// The current source: 0 the input, k+1 the output of ReLU layer k.
    current: usize,
    source_dim: usize,
    dense: Vec<Dyadic>,
    touched: Vec<u32>,
}

impl Lowering<'_> {
    fn err(&self, node: &Node, msg: impl Into<String>) -> LowerError {
        LowerError {
            file: self.file.to_string(),
            node: match &node.name {
                Some(n) => format!("{} ({n}, {})", node.id, node.op.tag()),
                None => format!("{} ({})", node.id, node.op.tag()),
            },
            msg: msg.into(),
        }
    }

    /// Argument `i`, which must be a constant.
    fn constant<'v>(
        &self,
        node: &Node,
        args: &[&'v Value],
        i: usize,
        what: &str,
    ) -> Result<&'v Value, LowerError> {
        match args.get(i) {
            Some(v) if v.src.is_none() => Ok(v),
            Some(_) => Err(self.err(node, format!("the {what} must be a constant"))),
            None => Err(self.err(node, format!("the {what} is missing"))),
        }
    }

    fn ensure_dense(&mut self) {
        if self.dense.len() < self.source_dim {
            self.dense.resize(self.source_dim, Dyadic::zero());
        }
    }

    /// Rows of `v` as an element of the current source, or an error for stale sources.
    fn affine_src(&self, node: &Node, v: &Value) -> Result<(), LowerError> {
        match v.src {
            Some(s) if s != self.current => Err(self.err(
                node,
                "uses a value from before the latest ReLU (skip connections are not supported)",
            )),
            _ => Ok(()),
        }
    }

    fn weighted(&mut self, v: &Value, terms: Vec<(usize, Dyadic)>) -> (Vec<(u32, Dyadic)>, Dyadic) {
        self.ensure_dense();
        combine(v, terms.into_iter(), &mut self.dense, &mut self.touched)
    }

    /// `out[i] = Σ_k terms(i)` for each output element.
    fn linear_map(
        &mut self,
        v: &Value,
        shape: Vec<usize>,
        terms: impl Fn(usize) -> Vec<(usize, Dyadic)>,
    ) -> Value {
        let n: usize = shape.iter().product();
        let mut rows = Vec::with_capacity(n);
        let mut consts = Vec::with_capacity(n);
        for i in 0..n {
            let (r, c) = self.weighted(v, terms(i));
            rows.push(r);
            consts.push(c);
        }
        Value {
            src: v.src,
            shape,
            rows,
            consts,
        }
    }

    fn node(&mut self, node: &Node, args: &[&Value]) -> Result<Value, LowerError> {
        let out_shape = node.shape.dims().to_vec();
        match &node.op {
            Op::Input { .. } => {
                if !self.maps.is_empty() || self.current != 0 || self.source_dim != 0 {
                    return Err(self.err(node, "a second network input is not supported"));
                }
                let n = out_shape.iter().product();
                self.source_dim = n;
                Ok(Value::identity(0, n, out_shape))
            }
            Op::Parameter { name, .. } => {
                let t = self
                    .params
                    .get(name)
                    .ok_or_else(|| self.err(node, format!("parameter {name:?} has no value")))?;
                Ok(Value::constant(t))
            }
            Op::Constant { value } => Ok(Value::constant(&value.0)),
            Op::Detach => Ok(args[0].clone()),
            Op::Reshape { .. } | Op::Flatten { .. } => {
                let mut v = args[0].clone();
                v.shape = out_shape;
                Ok(v)
            }
            Op::Permute { .. } | Op::Transpose { .. } => {
                let x = args[0];
                let perm: Vec<usize> = match &node.op {
                    Op::Permute { perm } => perm.clone(),
                    Op::Transpose { axis0, axis1 } => {
                        let r = x.shape.len() as isize;
                        let norm = |a: isize| if a < 0 { (a + r) as usize } else { a as usize };
                        let mut p: Vec<usize> = (0..x.shape.len()).collect();
                        p.swap(norm(*axis0), norm(*axis1));
                        p
                    }
                    _ => unreachable!("matched above"),
                };
                let (xs, os) = (strides(&x.shape), strides(&out_shape));
                let map: Vec<usize> = (0..x.numel())
                    .map(|flat| {
                        perm.iter()
                            .enumerate()
                            .map(|(i, &p)| ((flat / os[i]) % out_shape[i]) * xs[p])
                            .sum()
                    })
                    .collect();
                Ok(Value {
                    src: x.src,
                    shape: out_shape,
                    rows: map.iter().map(|&i| x.rows[i].clone()).collect(),
                    consts: map.iter().map(|&i| x.consts[i].clone()).collect(),
                })
            }
            Op::Neg => Ok(self.scaled(node, args[0], &Value::constant(&Tensor::scalar(-1.0f64)), &out_shape)?),
            Op::Add | Op::Sub => {
                let (a, b) = (args[0], args[1]);
                self.affine_src(node, a)?;
                self.affine_src(node, b)?;
                let ma = broadcast_map(&a.shape, &out_shape)
                    .ok_or_else(|| self.err(node, "operands do not broadcast"))?;
                let mb = broadcast_map(&b.shape, &out_shape)
                    .ok_or_else(|| self.err(node, "operands do not broadcast"))?;
                let sign = Dyadic::from_int(if matches!(node.op, Op::Sub) { -1 } else { 1 });
                let src = a.src.or(b.src);
                let mut rows = Vec::with_capacity(ma.len());
                let mut consts = Vec::with_capacity(ma.len());
                for (&i, &j) in ma.iter().zip(&mb) {
                    // Two-term combination over the pair of operands.
                    let pair = Value {
                        src,
                        shape: vec![2],
                        rows: vec![a.rows[i].clone(), b.rows[j].clone()],
                        consts: vec![a.consts[i].clone(), b.consts[j].clone()],
                    };
                    let (r, c) =
                        self.weighted(&pair, vec![(0, Dyadic::from_int(1)), (1, sign.clone())]);
                    rows.push(r);
                    consts.push(c);
                }
                Ok(Value {
                    src,
                    shape: out_shape,
                    rows,
                    consts,
                })
            }
            Op::Mul => {
                let (x, k) = if args[1].src.is_none() {
                    (args[0], args[1])
                } else if args[0].src.is_none() {
                    (args[1], args[0])
                } else {
                    return Err(self.err(node, "a product of two non-constant values is not affine"));
                };
                self.scaled(node, x, k, &out_shape)
            }
            Op::Div => {
                let k = self.constant(node, args, 1, "divisor")?;
                let mut inv = k.clone();
                for c in &mut inv.consts {
                    // Only ±2^e has a dyadic reciprocal; anything else would not be exact.
                    let m = c.mant.abs();
                    if m != num_bigint::BigInt::from(1) {
                        return Err(self.err(
                            node,
                            format!("division by {} is not exact (only powers of two are)", c.approx()),
                        ));
                    }
                    c.exp = -c.exp;
                }
                self.scaled(node, args[0], &inv, &out_shape)
            }
            Op::Linear { bias } => {
                let x = args[0];
                self.affine_src(node, x)?;
                let w = self.constant(node, args, 1, "weight")?;
                let (out, inn) = (w.shape[0], w.shape[1]);
                let wc = w.consts.clone();
                let mut v = self.linear_map(x, out_shape.clone(), |i| {
                    let (p, j) = (i / out, i % out);
                    (0..inn).map(|k| (p * inn + k, wc[j * inn + k].clone())).collect()
                });
                if *bias {
                    let b = self.constant(node, args, 2, "bias")?;
                    for (i, c) in v.consts.iter_mut().enumerate() {
                        *c = c.add(&b.consts[i % out]);
                    }
                }
                Ok(v)
            }
            Op::Matmul => {
                let (a, b) = (args[0], args[1]);
                let rank2 = |v: &Value| v.shape.len() <= 2;
                if b.src.is_none() && rank2(b) {
                    // x · B: x [.., n], B [n, m] or [n].
                    self.affine_src(node, a)?;
                    let n = *a.shape.last().unwrap_or(&1);
                    let m = if b.shape.len() == 2 { b.shape[1] } else { 1 };
                    if b.shape.first() != Some(&n) {
                        return Err(self.err(node, "inner dimensions differ"));
                    }
                    let bc = b.consts.clone();
                    Ok(self.linear_map(a, out_shape, |i| {
                        let (p, j) = (i / m, i % m);
                        (0..n).map(|k| (p * n + k, bc[k * m + j].clone())).collect()
                    }))
                } else if a.src.is_none() && rank2(a) && rank2(b) {
                    // A · x: A [m, n] or [n], x [n, p] or [n].
                    self.affine_src(node, b)?;
                    let n = b.shape[0];
                    let p = if b.shape.len() == 2 { b.shape[1] } else { 1 };
                    if a.shape.last() != Some(&n) {
                        return Err(self.err(node, "inner dimensions differ"));
                    }
                    let ac = a.consts.clone();
                    Ok(self.linear_map(b, out_shape, |i| {
                        let (r, j) = (i / p, i % p);
                        (0..n).map(|k| (k * p + j, ac[r * n + k].clone())).collect()
                    }))
                } else {
                    Err(self.err(node, "only products with a constant matrix (rank ≤ 2) are affine"))
                }
            }
            Op::Conv2d { params, bias } => {
                let x = args[0];
                self.affine_src(node, x)?;
                let w = self.constant(node, args, 1, "weight")?;
                let r = x.shape.len();
                if r < 3 || (r == 4 && x.shape[0] != 1) || r > 4 {
                    return Err(self.err(node, "conv input must be [1, C, H, W] or [C, H, W]"));
                }
                let (c_in, h, wd) = (x.shape[r - 3], x.shape[r - 2], x.shape[r - 1]);
                let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
                let ro = out_shape.len();
                let (oh, ow) = (out_shape[ro - 2], out_shape[ro - 1]);
                let groups = params.groups.max(1);
                let og = o / groups;
                let wc = w.consts.clone();
                let p = *params;
                let mut v = self.linear_map(x, out_shape.clone(), |i| {
                    let (oc, oy, ox) = (i / (oh * ow), (i / ow) % oh, i % ow);
                    let g = oc / og;
                    let mut terms = Vec::new();
                    for ci in 0..cg {
                        let c = g * cg + ci;
                        for ky in 0..kh {
                            let iy = (oy * p.stride[0] + ky * p.dilation[0]) as isize
                                - p.padding[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * p.stride[1] + kx * p.dilation[1]) as isize
                                    - p.padding[1] as isize;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                let wi = ((oc * cg + ci) * kh + ky) * kw + kx;
                                let xi = (c * h + iy as usize) * wd + ix as usize;
                                terms.push((xi, wc[wi].clone()));
                            }
                        }
                    }
                    terms
                });
                debug_assert_eq!(c_in, cg * groups);
                if *bias {
                    let b = self.constant(node, args, 2, "bias")?;
                    for (i, c) in v.consts.iter_mut().enumerate() {
                        *c = c.add(&b.consts[i / (oh * ow)]);
                    }
                }
                Ok(v)
            }
            Op::Relu => {
                let x = args[0];
                if x.src.is_none() {
                    return Err(self.err(node, "ReLU of a constant"));
                }
                self.affine_src(node, x)?;
                self.close_map(x);
                self.current += 1;
                self.source_dim = x.numel();
                Ok(Value::identity(self.current, x.numel(), out_shape))
            }
            other => Err(self.err(
                node,
                format!(
                    "op {} is neither affine nor ReLU; the certificate checker lowers only \
                     Gemm/MatMul/Add/Sub/Neg/Mul and Div by constants/Flatten/Reshape/Transpose/Conv/Relu",
                    other.tag()
                ),
            )),
        }
    }

    /// `x · k` elementwise with `k` constant (broadcast).
    fn scaled(
        &mut self,
        node: &Node,
        x: &Value,
        k: &Value,
        out_shape: &[usize],
    ) -> Result<Value, LowerError> {
        self.affine_src(node, x)?;
        let mx = broadcast_map(&x.shape, out_shape)
            .ok_or_else(|| self.err(node, "operands do not broadcast"))?;
        let mk = broadcast_map(&k.shape, out_shape)
            .ok_or_else(|| self.err(node, "operands do not broadcast"))?;
        let kc = k.consts.clone();
        Ok(self.linear_map(x, out_shape.to_vec(), |i| vec![(mx[i], kc[mk[i]].clone())]))
    }

    /// Appends the map from the current source to `x`.
    fn close_map(&mut self, x: &Value) {
        let cols = self.source_dim;
        let mut dense = vec![Dyadic::zero(); x.numel() * cols];
        for (r, row) in x.rows.iter().enumerate() {
            for (c, a) in row {
                dense[r * cols + *c as usize] = a.clone();
            }
        }
        self.maps.push(Affine {
            weight: Matrix::new(x.numel(), cols, &dense),
            bias: x.consts.clone(),
        });
    }
}

/// Lowers `graph` (one input, one output) with its parameters; `file` names it in errors.
pub fn lower(
    graph: &Graph,
    params: &BTreeMap<String, Tensor>,
    file: &str,
) -> Result<Network, LowerError> {
    let whole = |msg: &str| LowerError {
        file: file.to_string(),
        node: "graph".to_string(),
        msg: msg.to_string(),
    };
    if graph.outputs.len() != 1 {
        return Err(whole("the network must have exactly one output"));
    }
    let mut low = Lowering {
        file,
        params,
        maps: Vec::new(),
        current: 0,
        source_dim: 0,
        dense: Vec::new(),
        touched: Vec::new(),
    };
    let mut values: Vec<Option<Value>> = vec![None; graph.nodes.len()];
    for node in &graph.nodes {
        let args: Vec<&Value> = node
            .inputs
            .iter()
            .map(|&i| values[i].as_ref())
            .collect::<Option<_>>()
            .ok_or_else(|| low.err(node, "an input was not computed"))?;
        let v = low.node(node, &args)?;
        values[node.id] = Some(v);
    }
    let out = values[graph.outputs[0]]
        .take()
        .ok_or_else(|| whole("the output was not computed"))?;
    if out.src != Some(low.current) {
        return Err(whole(
            "the output does not depend on the last ReLU layer (or the input)",
        ));
    }
    if low.source_dim == 0 {
        return Err(whole("the network has no input"));
    }
    low.close_map(&out);
    Ok(Network { maps: low.maps })
}
