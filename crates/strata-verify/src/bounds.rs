//! Sound bounds over an IR graph for every input in a box.
//!
//! - [`ibp`]: interval bound propagation through the reference interpreter's interval layer
//!   (`strata_ir::layer::IntervalLayer`, outward-rounded `f64` enclosures), every node's bounds.
//! - [`Crown`]: CROWN / DeepPoly backward linear relaxation for graphs of `linear`, `matmul`,
//!   `add`, `sub`, `mul`/`neg` by constants, `reshape`, `flatten`, `detach` and `relu` (adaptive
//!   lower slope: 1 where `u ≥ −l`, else 0). Pre-activation bounds of every ReLU come from CROWN
//!   itself (intersected with IBP). Nodes that do not depend on the input are constants: their
//!   IBP enclosures enter the bound.
//!
//! Soundness: linear coefficients are carried as intervals and every product and sum is rounded
//! outward (`next_down` / `next_up` after round-to-nearest), so every bound holds for the exact
//! real-number network with the given weights. The upper ReLU slope `u / (u − l)` is rounded up
//! (a larger slope through `(l, 0)` is still an upper bound on `[l, u]`).

use crate::vnnlib::Enclosure;
use crate::VerifyError;
use strata_float::interval::Interval;
use strata_ir::interpret::{interpret_values, Array, Value};
use strata_ir::layer::IntervalLayer;
use strata_ir::{Graph, Node, NodeId, Op, ParamStore};
use strata_tensor::ReduceOrder;

/// An input region: per-element bounds of the (single) float input, in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Region {
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Self {
        Region { lower, upper }
    }
    pub fn width(&self, i: usize) -> f64 {
        self.upper[i] - self.lower[i]
    }
}

/// Per-element bounds of one node's value, row-major over `shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    pub shape: Vec<usize>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Bounds {
    /// The largest width `upper − lower`.
    pub fn max_width(&self) -> f64 {
        (self.lower.iter().zip(&self.upper))
            .map(|(l, u)| u - l)
            .fold(0.0, f64::max)
    }
}

/// An interval with outward-rounded operations (finite endpoints).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Iv {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

pub(crate) const ZERO: Iv = Iv { lo: 0.0, hi: 0.0 };

fn dn(x: f64) -> f64 {
    x.next_down()
}
fn up(x: f64) -> f64 {
    x.next_up()
}

impl Iv {
    pub(crate) fn point(v: f64) -> Iv {
        Iv { lo: v, hi: v }
    }
    fn is_zero(self) -> bool {
        self.lo == 0.0 && self.hi == 0.0
    }
    pub(crate) fn add(self, o: Iv) -> Iv {
        if o.is_zero() {
            return self;
        }
        if self.is_zero() {
            return o;
        }
        Iv {
            lo: dn(self.lo + o.lo),
            hi: up(self.hi + o.hi),
        }
    }
    pub(crate) fn neg(self) -> Iv {
        Iv {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
    pub(crate) fn mul_point(self, w: f64) -> Iv {
        if w == 0.0 || self.is_zero() {
            ZERO
        } else if w == 1.0 {
            self
        } else if w > 0.0 {
            Iv {
                lo: dn(self.lo * w),
                hi: up(self.hi * w),
            }
        } else {
            Iv {
                lo: dn(self.hi * w),
                hi: up(self.lo * w),
            }
        }
    }
    fn mul(self, o: Iv) -> Iv {
        if o.lo == o.hi {
            return self.mul_point(o.lo);
        }
        if self.lo == self.hi {
            return o.mul_point(self.lo);
        }
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        Iv {
            lo: dn(c.iter().copied().fold(f64::INFINITY, f64::min)),
            hi: up(c.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }
    fn pos(self) -> Iv {
        Iv {
            lo: self.lo.max(0.0),
            hi: self.hi.max(0.0),
        }
    }
    fn negative(self) -> Iv {
        Iv {
            lo: self.lo.min(0.0),
            hi: self.hi.min(0.0),
        }
    }
}

pub(crate) fn unsupported(node: &Node, msg: impl Into<String>) -> VerifyError {
    VerifyError::Unsupported {
        node: node.node_ref().to_string(),
        op: node.op.tag(),
        msg: msg.into(),
    }
}

/// The single float input node of `graph`.
pub(crate) fn input_node(graph: &Graph) -> Result<&Node, VerifyError> {
    let inputs: Vec<&Node> = graph.inputs().collect();
    match inputs.as_slice() {
        [one] if one.dtype.is_float() => Ok(one),
        _ => Err(VerifyError::Mismatch(format!(
            "the verifier needs a graph with exactly one float input, this one has {}",
            inputs.len()
        ))),
    }
}

fn check_region(graph: &Graph, region: &Region) -> Result<(), VerifyError> {
    let input = input_node(graph)?;
    let n = input.shape.numel();
    if region.lower.len() != n || region.upper.len() != n {
        return Err(VerifyError::Mismatch(format!(
            "the region has {} lower and {} upper bounds, the network input {} has {n} elements",
            region.lower.len(),
            region.upper.len(),
            input.node_ref()
        )));
    }
    for (i, (l, u)) in region.lower.iter().zip(&region.upper).enumerate() {
        if !(l.is_finite() && u.is_finite() && l <= u) {
            return Err(VerifyError::Mismatch(format!(
                "input element {i}: bounds [{l}, {u}] are not a finite non-empty interval"
            )));
        }
    }
    Ok(())
}

/// Interval bound propagation: the bounds of every node (`None` for nodes the outputs do not
/// need and for i64/bool values) for all inputs in `region`.
pub fn ibp(
    graph: &Graph,
    params: &ParamStore,
    region: &Region,
) -> Result<Vec<Option<Bounds>>, VerifyError> {
    let ivs = ibp_intervals(graph, params, region)?;
    Ok((graph.nodes.iter().zip(ivs))
        .map(|(node, v)| {
            v.map(|v| Bounds {
                shape: node.shape.dims().to_vec(),
                lower: v.iter().map(|i| i.lo).collect(),
                upper: v.iter().map(|i| i.hi).collect(),
            })
        })
        .collect())
}

pub(crate) fn ibp_intervals(
    graph: &Graph,
    params: &ParamStore,
    region: &Region,
) -> Result<Vec<Option<Vec<Iv>>>, VerifyError> {
    check_region(graph, region)?;
    let input = input_node(graph)?;
    let data = (region.lower.iter().zip(&region.upper))
        .map(|(l, u)| Interval::new(*l, *u).ok())
        .collect();
    let value = Value::Float(Array::new(input.shape.clone(), data));
    let values = interpret_values(
        graph,
        params,
        &[value],
        &IntervalLayer,
        ReduceOrder::Sequential,
    )?;
    let mut out = Vec::with_capacity(values.len());
    for (node, v) in graph.nodes.iter().zip(values) {
        out.push(match v {
            Some(Value::Float(a)) => {
                let mut ivs = Vec::with_capacity(a.data.len());
                for (k, x) in a.data.iter().enumerate() {
                    match x {
                        Some(i) if i.lo().is_finite() && i.hi().is_finite() => ivs.push(Iv {
                            lo: i.lo(),
                            hi: i.hi(),
                        }),
                        _ => {
                            return Err(unsupported(
                                node,
                                format!("element {k} has no finite real bound"),
                            ))
                        }
                    }
                }
                Some(ivs)
            }
            _ => None,
        });
    }
    Ok(out)
}

/// Flat position in `from` (right-aligned NumPy broadcast into `to`) of each flat position of `to`.
pub(crate) fn broadcast_map(from: &[usize], to: &[usize]) -> Option<Vec<usize>> {
    if from.len() > to.len() {
        return None;
    }
    let off = to.len() - from.len();
    for (k, &d) in from.iter().enumerate() {
        if d != 1 && d != to[off + k] {
            return None;
        }
    }
    let n: usize = to.iter().product();
    let mut strides = vec![0usize; from.len()];
    let mut s = 1;
    for k in (0..from.len()).rev() {
        strides[k] = if from[k] == 1 { 0 } else { s };
        s *= from[k];
    }
    let mut map = Vec::with_capacity(n);
    let mut idx = vec![0usize; to.len()];
    for _ in 0..n {
        let pos = (0..from.len()).map(|k| idx[off + k] * strides[k]).sum();
        map.push(pos);
        for k in (0..to.len()).rev() {
            idx[k] += 1;
            if idx[k] < to[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Some(map)
}

/// CROWN bounds over one region: built once (IBP, then CROWN pre-activation bounds of every
/// ReLU in order), then queried for any node or linear specification.
pub struct Crown<'a> {
    graph: &'a Graph,
    region: Region,
    input: NodeId,
    ibp: Vec<Option<Vec<Iv>>>,
    depends: Vec<bool>,
    /// Tightest known bounds (CROWN ∩ IBP) of the nodes that feed a ReLU.
    pre: Vec<Option<Vec<Iv>>>,
}

impl<'a> Crown<'a> {
    /// IBP over `region`, then CROWN bounds on every ReLU input in topological order.
    pub fn new(
        graph: &'a Graph,
        params: &ParamStore,
        region: &Region,
    ) -> Result<Self, VerifyError> {
        let ibp = ibp_intervals(graph, params, region)?;
        let input = input_node(graph)?.id;
        let mut depends = vec![false; graph.nodes.len()];
        for node in &graph.nodes {
            depends[node.id] = node.id == input || node.inputs.iter().any(|&i| depends[i]);
        }
        let mut crown = Crown {
            graph,
            region: region.clone(),
            input,
            ibp,
            depends,
            pre: vec![None; graph.nodes.len()],
        };
        for node in &graph.nodes {
            if !matches!(node.op, Op::Relu) || crown.ibp[node.id].is_none() {
                continue;
            }
            let h = node.inputs[0];
            if crown.depends[h] && crown.pre[h].is_none() {
                let b = crown.tight(h)?;
                crown.pre[h] = Some(b);
            }
        }
        Ok(crown)
    }

    /// IBP bounds of node `id` (`None` where not evaluated).
    pub fn ibp_bounds(&self, id: NodeId) -> Option<Bounds> {
        let v = self.ibp.get(id)?.as_ref()?;
        Some(self.to_bounds(id, v))
    }

    /// The ReLU pre-activation bounds used by the relaxation (CROWN ∩ IBP), for a node that
    /// feeds a ReLU.
    pub fn pre_activation_bounds(&self, id: NodeId) -> Option<Bounds> {
        let v = self.pre.get(id)?.as_ref()?;
        Some(self.to_bounds(id, v))
    }

    fn to_bounds(&self, id: NodeId, v: &[Iv]) -> Bounds {
        Bounds {
            shape: self.graph.nodes[id].shape.dims().to_vec(),
            lower: v.iter().map(|i| i.lo).collect(),
            upper: v.iter().map(|i| i.hi).collect(),
        }
    }

    /// CROWN bounds of node `id` (intersected with IBP).
    pub fn bounds(&self, id: NodeId) -> Result<Bounds, VerifyError> {
        if let Some(b) = self.pre_activation_bounds(id) {
            return Ok(b);
        }
        let v = self.tight(id)?;
        Ok(self.to_bounds(id, &v))
    }

    /// CROWN bounds of every graph output.
    pub fn output_bounds(&self) -> Result<Vec<Bounds>, VerifyError> {
        self.graph.outputs.iter().map(|&o| self.bounds(o)).collect()
    }

    /// Lower bounds, valid for every input in the region, of `row · value(target)` for each row
    /// (coefficient enclosures over the flattened value of `target`).
    pub fn lower_bounds(
        &self,
        target: NodeId,
        rows: &[Vec<Enclosure>],
    ) -> Result<Vec<f64>, VerifyError> {
        let node = self
            .graph
            .nodes
            .get(target)
            .ok_or_else(|| VerifyError::Mismatch(format!("no node %{target}")))?;
        let n = node.shape.numel();
        let mut a = Vec::with_capacity(rows.len() * n);
        for (r, row) in rows.iter().enumerate() {
            if row.len() != n {
                return Err(VerifyError::Mismatch(format!(
                    "specification row {r} has {} coefficients, {} has {n} elements",
                    row.len(),
                    node.node_ref()
                )));
            }
            a.extend(row.iter().map(|e| Iv { lo: e.lo, hi: e.hi }));
        }
        self.backward(target, a, rows.len())
    }

    /// CROWN ∩ IBP bounds of `id` from the stacked specification `[I; −I]`.
    fn tight(&self, id: NodeId) -> Result<Vec<Iv>, VerifyError> {
        let node = &self.graph.nodes[id];
        let ibp = self.ibp[id]
            .as_ref()
            .ok_or_else(|| unsupported(node, "the node was not evaluated"))?;
        if !self.depends[id] {
            return Ok(ibp.clone());
        }
        let n = ibp.len();
        let mut a = vec![ZERO; 2 * n * n];
        for j in 0..n {
            a[j * n + j] = Iv::point(1.0);
            a[(n + j) * n + j] = Iv::point(-1.0);
        }
        let low = self.backward(id, a, 2 * n)?;
        Ok((0..n)
            .map(|j| {
                let lo = ibp[j].lo.max(low[j]);
                let hi = ibp[j].hi.min(-low[n + j]);
                // Both are sound enclosures, so they intersect for the real value; rounding
                // can only make them touch, never cross, but stay safe.
                if lo <= hi {
                    Iv { lo, hi }
                } else {
                    ibp[j]
                }
            })
            .collect())
    }

    fn values(&self, id: NodeId) -> Result<&[Iv], VerifyError> {
        self.ibp[id]
            .as_deref()
            .ok_or_else(|| unsupported(&self.graph.nodes[id], "the node was not evaluated"))
    }

    /// The backward pass: lower bounds of the `q` rows of `a` (q × numel(target), row-major).
    fn backward(&self, target: NodeId, a: Vec<Iv>, q: usize) -> Result<Vec<f64>, VerifyError> {
        let g = self.graph;
        let mut acc: Vec<Option<Vec<Iv>>> = vec![None; target + 1];
        acc[target] = Some(a);
        let mut constant = vec![ZERO; q];
        for id in (0..=target).rev() {
            let Some(a) = acc[id].take() else {
                continue;
            };
            let node = &g.nodes[id];
            let n = node.shape.numel();
            if !self.depends[id] {
                let v = self.values(id)?;
                for (r, c) in constant.iter_mut().enumerate() {
                    let mut s = *c;
                    for (aj, vj) in a[r * n..(r + 1) * n].iter().zip(v) {
                        if !aj.is_zero() {
                            s = s.add(aj.mul(*vj));
                        }
                    }
                    *c = s;
                }
                continue;
            }
            if id == self.input {
                for (r, c) in constant.iter_mut().enumerate() {
                    let mut s = *c;
                    for (j, aj) in a[r * n..(r + 1) * n].iter().enumerate() {
                        if !aj.is_zero() {
                            let x = Iv {
                                lo: self.region.lower[j],
                                hi: self.region.upper[j],
                            };
                            s = s.add(aj.mul(x));
                        }
                    }
                    *c = s;
                }
                continue;
            }
            match &node.op {
                Op::Reshape { .. } | Op::Flatten { .. } | Op::Detach => {
                    self.pass(&mut acc, node.inputs[0], q, a, 1.0)?;
                }
                Op::Cast { dtype } if dtype.is_float() => {
                    self.pass(&mut acc, node.inputs[0], q, a, 1.0)?;
                }
                Op::Neg => self.pass(&mut acc, node.inputs[0], q, a, -1.0)?,
                Op::Add | Op::Sub => {
                    let signs = [
                        1.0,
                        if matches!(node.op, Op::Sub) {
                            -1.0
                        } else {
                            1.0
                        },
                    ];
                    for (k, &x) in node.inputs.iter().enumerate() {
                        self.broadcast_pass(&mut acc, node, x, q, &a, None, signs[k])?;
                    }
                }
                Op::Mul => {
                    let [x, y] = [node.inputs[0], node.inputs[1]];
                    let (var, cst) = match (self.depends[x], self.depends[y]) {
                        (true, false) => (x, y),
                        (false, true) => (y, x),
                        _ => {
                            return Err(unsupported(
                                node,
                                "a product of two input-dependent values",
                            ))
                        }
                    };
                    let cmap = broadcast_map(g.nodes[cst].shape.dims(), node.shape.dims())
                        .ok_or_else(|| unsupported(node, "bad broadcast"))?;
                    let cv = self.values(cst)?;
                    let factors: Vec<Iv> = cmap.iter().map(|&p| cv[p]).collect();
                    self.broadcast_pass(&mut acc, node, var, q, &a, Some(&factors), 1.0)?;
                }
                Op::Relu => self.relu(&mut acc, &mut constant, node, q, a)?,
                Op::Linear { bias } => {
                    let (x, w) = (node.inputs[0], node.inputs[1]);
                    if self.depends[w] || (*bias && self.depends[node.inputs[2]]) {
                        return Err(unsupported(node, "the weight or bias depends on the input"));
                    }
                    let wdims = g.nodes[w].shape.dims();
                    let (out, inn) = (wdims[0], wdims[1]);
                    let wv = self.values(w)?;
                    // w[o, i]
                    let bv = if *bias {
                        Some(self.values(node.inputs[2])?)
                    } else {
                        None
                    };
                    self.affine(
                        &mut acc,
                        &mut constant,
                        x,
                        q,
                        &a,
                        n / out.max(1),
                        out,
                        inn,
                        |o, i| wv[o * inn + i],
                        bv,
                    )?;
                }
                Op::Matmul => self.matmul(&mut acc, &mut constant, node, q, &a)?,
                _ => {
                    return Err(unsupported(
                        node,
                        "CROWN has no linear relaxation for this op yet",
                    ))
                }
            }
        }
        Ok(constant.iter().map(|c| c.lo).collect())
    }

    /// Adds `sign · a` to the accumulated coefficients of `x` (same element count).
    fn pass(
        &self,
        acc: &mut [Option<Vec<Iv>>],
        x: NodeId,
        _q: usize,
        a: Vec<Iv>,
        sign: f64,
    ) -> Result<(), VerifyError> {
        let a = if sign < 0.0 {
            a.into_iter().map(Iv::neg).collect()
        } else {
            a
        };
        match &mut acc[x] {
            Some(old) => {
                for (o, v) in old.iter_mut().zip(a) {
                    *o = o.add(v);
                }
            }
            slot @ None => *slot = Some(a),
        }
        Ok(())
    }

    /// Adds `sign · a ⊙ factors` to the coefficients of operand `x` of an elementwise `node`,
    /// summing over the positions `x` is broadcast to.
    #[allow(clippy::too_many_arguments)]
    fn broadcast_pass(
        &self,
        acc: &mut [Option<Vec<Iv>>],
        node: &Node,
        x: NodeId,
        q: usize,
        a: &[Iv],
        factors: Option<&[Iv]>,
        sign: f64,
    ) -> Result<(), VerifyError> {
        let xdims = self.graph.nodes[x].shape.dims();
        let map = broadcast_map(xdims, node.shape.dims())
            .ok_or_else(|| unsupported(node, "bad broadcast"))?;
        let (n, nx) = (node.shape.numel(), self.graph.nodes[x].shape.numel());
        let slot = acc[x].get_or_insert_with(|| vec![ZERO; q * nx]);
        for r in 0..q {
            for (j, &p) in map.iter().enumerate() {
                let mut v = a[r * n + j];
                if v.is_zero() {
                    continue;
                }
                if let Some(f) = factors {
                    v = v.mul(f[j]);
                }
                if sign < 0.0 {
                    v = v.neg();
                }
                let t = &mut slot[r * nx + p];
                *t = t.add(v);
            }
        }
        Ok(())
    }

    /// Backward through `y[p, o] = Σ_i x[p, i] · w(o, i) (+ b[o])` for `rows` groups `p`.
    #[allow(clippy::too_many_arguments)]
    fn affine(
        &self,
        acc: &mut [Option<Vec<Iv>>],
        constant: &mut [Iv],
        x: NodeId,
        q: usize,
        a: &[Iv],
        rows: usize,
        out: usize,
        inn: usize,
        w: impl Fn(usize, usize) -> Iv,
        bias: Option<&[Iv]>,
    ) -> Result<(), VerifyError> {
        let n = rows * out;
        let nx = rows * inn;
        if self.graph.nodes[x].shape.numel() != nx {
            return Err(unsupported(
                &self.graph.nodes[x],
                "affine operand size does not match",
            ));
        }
        // Cache the weights as a dense matrix (o-major).
        let wm: Vec<Iv> = (0..out)
            .flat_map(|o| (0..inn).map(move |i| (o, i)))
            .map(|(o, i)| w(o, i))
            .collect();
        let all_points = wm.iter().all(|v| v.lo == v.hi);
        let slot = acc[x].get_or_insert_with(|| vec![ZERO; q * nx]);
        for r in 0..q {
            for p in 0..rows {
                let dst = &mut slot[r * nx + p * inn..r * nx + (p + 1) * inn];
                for o in 0..out {
                    let c = a[r * n + p * out + o];
                    if c.is_zero() {
                        continue;
                    }
                    let wr = &wm[o * inn..(o + 1) * inn];
                    if all_points {
                        for (d, wv) in dst.iter_mut().zip(wr) {
                            *d = d.add(c.mul_point(wv.lo));
                        }
                    } else {
                        for (d, wv) in dst.iter_mut().zip(wr) {
                            *d = d.add(c.mul(*wv));
                        }
                    }
                    if let Some(b) = bias {
                        constant[r] = constant[r].add(c.mul(b[o]));
                    }
                }
            }
        }
        Ok(())
    }

    fn matmul(
        &self,
        acc: &mut [Option<Vec<Iv>>],
        constant: &mut [Iv],
        node: &Node,
        q: usize,
        a: &[Iv],
    ) -> Result<(), VerifyError> {
        let g = self.graph;
        let (x, y) = (node.inputs[0], node.inputs[1]);
        let (xd, yd) = (g.nodes[x].shape.dims(), g.nodes[y].shape.dims());
        match (self.depends[x], self.depends[y]) {
            (true, false) if yd.len() == 2 && !xd.is_empty() => {
                // out[p, j] = Σ_k x[p, k] · W[k, j]
                let (k, m) = (yd[0], yd[1]);
                let wv = self.values(y)?;
                let rows = g.nodes[x].shape.numel() / k.max(1);
                self.affine(
                    acc,
                    constant,
                    x,
                    q,
                    a,
                    rows,
                    m,
                    k,
                    |o, i| wv[i * m + o],
                    None,
                )
            }
            (true, false) if yd.len() == 1 && !xd.is_empty() => {
                let k = yd[0];
                let wv = self.values(y)?;
                let rows = g.nodes[x].shape.numel() / k.max(1);
                self.affine(acc, constant, x, q, a, rows, 1, k, |_, i| wv[i], None)
            }
            (false, true) if xd.len() == 2 && (yd.len() == 1 || yd.len() == 2) => {
                // out[i, j] = Σ_k W[i, k] · x[k, j]
                let (m, k) = (xd[0], xd[1]);
                let ncols = if yd.len() == 2 { yd[1] } else { 1 };
                let wv = self.values(x)?;
                let nx = k * ncols;
                let n = m * ncols;
                let slot = acc[y].get_or_insert_with(|| vec![ZERO; q * nx]);
                for r in 0..q {
                    for i in 0..m {
                        for j in 0..ncols {
                            let c = a[r * n + i * ncols + j];
                            if c.is_zero() {
                                continue;
                            }
                            for kk in 0..k {
                                let t = &mut slot[r * nx + kk * ncols + j];
                                *t = t.add(c.mul(wv[i * k + kk]));
                            }
                        }
                    }
                }
                Ok(())
            }
            (true, true) => Err(unsupported(node, "a product of two input-dependent values")),
            _ => Err(unsupported(node, "this matmul shape is not supported")),
        }
    }

    fn relu(
        &self,
        acc: &mut [Option<Vec<Iv>>],
        constant: &mut [Iv],
        node: &Node,
        q: usize,
        a: Vec<Iv>,
    ) -> Result<(), VerifyError> {
        let h = node.inputs[0];
        let pre = match &self.pre[h] {
            Some(p) => p.as_slice(),
            None => self.values(h)?,
        };
        let n = pre.len();
        // Per neuron: (slope for a ≥ 0, slope for a ≤ 0, constant for a ≤ 0).
        let relax: Vec<(f64, f64, f64)> = pre
            .iter()
            .map(|b| {
                if b.lo >= 0.0 {
                    (1.0, 1.0, 0.0)
                } else if b.hi <= 0.0 {
                    (0.0, 0.0, 0.0)
                } else {
                    let (l, u) = (b.lo, b.hi);
                    let s = up(u / dn(u - l));
                    let t = up(-s * l);
                    let alpha = if u >= -l { 1.0 } else { 0.0 };
                    (alpha, s, t)
                }
            })
            .collect();
        let slot = acc[h].get_or_insert_with(|| vec![ZERO; q * n]);
        for r in 0..q {
            let mut c = constant[r];
            for (j, &(alpha, s, t)) in relax.iter().enumerate() {
                let v = a[r * n + j];
                if v.is_zero() {
                    continue;
                }
                let (pos, neg) = (v.pos(), v.negative());
                let coef = pos.mul_point(alpha).add(neg.mul_point(s));
                if t != 0.0 && !neg.is_zero() {
                    c = c.add(neg.mul_point(t));
                }
                let d = &mut slot[r * n + j];
                *d = d.add(coef);
            }
            constant[r] = c;
        }
        Ok(())
    }
}
