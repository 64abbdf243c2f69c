//! Lowering of an IR graph to a layered ReLU network `x → A₀ → ReLU → A₁ → … → A_{L−1}`, the
//! form the dense bound engine ([`crate::dense`]) and the attack work on.
//!
//! Accepted: one float input, a chain of nodes each using the previous one (plus constants):
//! `linear`, `matmul` with a constant matrix on either side, `add`/`sub` of a constant, `neg`,
//! `mul` by a constant, `reshape`/`flatten`/`detach`/float `cast`, and `relu`. Weights are kept
//! exactly (the f32 file values widened to f64); a product of two weight matrices is allowed
//! only where it is exact (a diagonal scaling whose products round-trip), otherwise the graph is
//! reported as not lowerable and the general IR path ([`crate::Crown`]) bounds it. Constants
//! folded into a bias are enclosed with outward rounding, so each bias is an interval that
//! contains the exact real bias.

use crate::bounds::{broadcast_map, ibp_intervals, input_node, unsupported, Iv, Region, ZERO};
use crate::VerifyError;
use strata_ir::{Graph, NodeId, Op, ParamStore};

/// One affine map `z = W·h + b`: `weight` row-major `out × inn` (exact values), `bias` an
/// enclosure `[bias_lo, bias_hi]` of the exact bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    pub out: usize,
    pub inn: usize,
    pub weight: Vec<f64>,
    pub bias_lo: Vec<f64>,
    pub bias_hi: Vec<f64>,
}

impl Affine {
    fn bias_mid(&self, o: usize) -> f64 {
        0.5 * (self.bias_lo[o] + self.bias_hi[o])
    }
}

/// Affine layers with a ReLU after every layer but the last.
#[derive(Clone, Debug, PartialEq)]
pub struct LayeredNet {
    pub n_inputs: usize,
    pub layers: Vec<Affine>,
}

/// The affine map accumulated since the last ReLU, from the last ReLU's output (or the input).
enum Pending {
    Identity,
    Diagonal(Vec<f64>),
    Dense(Vec<f64>),
}

struct Chain {
    width_in: usize,
    width: usize,
    weight: Pending,
    bias: Vec<Iv>,
}

impl Chain {
    fn new(width: usize) -> Self {
        Chain {
            width_in: width,
            width,
            weight: Pending::Identity,
            bias: vec![ZERO; width],
        }
    }

    /// Applies `m` (row-major `rows × width`, exact values) after the chain.
    fn apply(&mut self, m: Vec<f64>, rows: usize) -> Result<(), String> {
        let n = self.width;
        let weight = match std::mem::replace(&mut self.weight, Pending::Identity) {
            Pending::Identity => m.clone(),
            Pending::Diagonal(d) => {
                let mut w = m.clone();
                for r in 0..rows {
                    for (j, dj) in d.iter().enumerate() {
                        let (a, p) = (w[r * n + j], w[r * n + j] * dj);
                        if !exact_product(a, *dj, p) {
                            return Err(
                                "a scaling followed by a matrix does not fold exactly".into()
                            );
                        }
                        w[r * n + j] = p;
                    }
                }
                w
            }
            Pending::Dense(_) => {
                return Err("two matrices without an activation between them".into());
            }
        };
        let bias = (0..rows)
            .map(|r| {
                (m[r * n..(r + 1) * n].iter().zip(&self.bias))
                    .fold(ZERO, |s, (w, b)| s.add(b.mul_point(*w)))
            })
            .collect();
        self.weight = Pending::Dense(weight);
        self.bias = bias;
        self.width = rows;
        Ok(())
    }

    /// Multiplies every output by `d[j]` (exact products only).
    fn scale(&mut self, d: &[f64]) -> Result<(), String> {
        let n_in = self.width_in;
        match &mut self.weight {
            Pending::Identity => self.weight = Pending::Diagonal(d.to_vec()),
            Pending::Diagonal(old) => {
                for (o, dj) in old.iter_mut().zip(d) {
                    let p = *o * dj;
                    if !exact_product(*o, *dj, p) {
                        return Err("two scalings do not fold exactly".into());
                    }
                    *o = p;
                }
            }
            Pending::Dense(w) => {
                for (r, dr) in d.iter().enumerate() {
                    for v in &mut w[r * n_in..(r + 1) * n_in] {
                        let p = *v * dr;
                        if !exact_product(*v, *dr, p) {
                            return Err("a scaling after a matrix does not fold exactly".into());
                        }
                        *v = p;
                    }
                }
            }
        }
        for (b, dj) in self.bias.iter_mut().zip(d) {
            *b = b.mul_point(*dj);
        }
        Ok(())
    }

    fn into_affine(self) -> Affine {
        let (out, inn) = (self.width, self.width_in);
        let weight = match self.weight {
            Pending::Identity => identity(out),
            Pending::Diagonal(d) => {
                let mut w = vec![0.0; out * inn];
                for (j, dj) in d.iter().enumerate() {
                    w[j * inn + j] = *dj;
                }
                w
            }
            Pending::Dense(w) => w,
        };
        Affine {
            out,
            inn,
            weight,
            bias_lo: self.bias.iter().map(|b| b.lo).collect(),
            bias_hi: self.bias.iter().map(|b| b.hi).collect(),
        }
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut w = vec![0.0; n * n];
    for j in 0..n {
        w[j * n + j] = 1.0;
    }
    w
}

/// Whether `a · b` was computed exactly as `p` (no rounding, no underflow).
fn exact_product(a: f64, b: f64, p: f64) -> bool {
    p.is_finite() && a.mul_add(b, -p) == 0.0 && (p == 0.0 || p.abs() >= f64::MIN_POSITIVE)
}

/// `kron(I_groups, m)` for `m` row-major `out × inn`.
fn block_diagonal(m: &[f64], out: usize, inn: usize, groups: usize) -> Vec<f64> {
    if groups == 1 {
        return m.to_vec();
    }
    let cols = groups * inn;
    let mut w = vec![0.0; groups * out * cols];
    for g in 0..groups {
        for o in 0..out {
            let row = (g * out + o) * cols + g * inn;
            w[row..row + inn].copy_from_slice(&m[o * inn..(o + 1) * inn]);
        }
    }
    w
}

impl LayeredNet {
    /// Lowers `graph` (its first output) to layers, or says which node prevents it.
    pub fn lower(graph: &Graph, params: &ParamStore) -> Result<Self, VerifyError> {
        let input = input_node(graph)?;
        let n_in = input.shape.numel();
        let out = *graph
            .outputs
            .first()
            .ok_or_else(|| VerifyError::Mismatch("the graph has no output".into()))?;
        let region = Region::new(vec![0.0; n_in], vec![0.0; n_in]);
        let values = ibp_intervals(graph, params, &region)?;
        let mut depends = vec![false; graph.nodes.len()];
        for node in &graph.nodes {
            depends[node.id] = node.id == input.id || node.inputs.iter().any(|&i| depends[i]);
        }
        let constant = |id: NodeId| -> Option<&[Iv]> {
            if depends[id] {
                None
            } else {
                values[id].as_deref()
            }
        };
        let points = |v: &[Iv]| -> Option<Vec<f64>> {
            v.iter().map(|i| (i.lo == i.hi).then_some(i.lo)).collect()
        };
        let mut layers = Vec::new();
        let mut chain = Chain::new(n_in);
        let mut head = input.id;
        for node in &graph.nodes[input.id + 1..=out.max(input.id)] {
            if !depends[node.id] {
                continue;
            }
            let fail = |msg: &str| unsupported(node, format!("not lowerable to layers: {msg}"));
            let var: Vec<usize> = (0..node.inputs.len())
                .filter(|&k| depends[node.inputs[k]])
                .collect();
            if var.len() != 1 || node.inputs[var[0]] != head {
                return Err(fail("not a chain of single-input layers"));
            }
            let pos = var[0];
            let n = node.shape.numel();
            let other = node.inputs.get(1 - pos.min(1)).copied();
            match &node.op {
                Op::Reshape { .. } | Op::Flatten { .. } | Op::Detach => {}
                Op::Cast { dtype } if dtype.is_float() => {}
                Op::Neg => chain.scale(&vec![-1.0; n]).map_err(|m| fail(&m))?,
                Op::Add | Op::Sub => {
                    if graph.nodes[head].shape.numel() != n {
                        return Err(fail("the variable operand is broadcast"));
                    }
                    let c = other
                        .and_then(constant)
                        .ok_or_else(|| fail("operand is not a constant"))?;
                    let map = broadcast_map(
                        graph.nodes[other.unwrap_or(0)].shape.dims(),
                        node.shape.dims(),
                    )
                    .ok_or_else(|| fail("bad broadcast"))?;
                    if matches!(node.op, Op::Sub) && pos == 1 {
                        chain.scale(&vec![-1.0; n]).map_err(|m| fail(&m))?;
                    }
                    let sign = if matches!(node.op, Op::Sub) && pos == 0 {
                        -1.0
                    } else {
                        1.0
                    };
                    for (b, &p) in chain.bias.iter_mut().zip(&map) {
                        *b = b.add(c[p].mul_point(sign));
                    }
                }
                Op::Mul => {
                    if graph.nodes[head].shape.numel() != n {
                        return Err(fail("the variable operand is broadcast"));
                    }
                    let c = other
                        .and_then(constant)
                        .and_then(points)
                        .ok_or_else(|| fail("factor is not an exact constant"))?;
                    let map = broadcast_map(
                        graph.nodes[other.unwrap_or(0)].shape.dims(),
                        node.shape.dims(),
                    )
                    .ok_or_else(|| fail("bad broadcast"))?;
                    let d: Vec<f64> = map.iter().map(|&p| c[p]).collect();
                    chain.scale(&d).map_err(|m| fail(&m))?;
                }
                Op::Linear { bias } => {
                    if pos != 0 {
                        return Err(fail("the weight depends on the input"));
                    }
                    let w = constant(node.inputs[1])
                        .and_then(points)
                        .ok_or_else(|| fail("the weight is not an exact constant"))?;
                    let wd = graph.nodes[node.inputs[1]].shape.dims();
                    let (o, i) = (wd[0], wd[1]);
                    let groups = chain.width / i.max(1);
                    chain
                        .apply(block_diagonal(&w, o, i, groups), groups * o)
                        .map_err(|m| fail(&m))?;
                    if *bias {
                        let b = constant(node.inputs[2])
                            .ok_or_else(|| fail("the bias is not a constant"))?;
                        for (k, v) in chain.bias.iter_mut().enumerate() {
                            *v = v.add(b[k % o]);
                        }
                    }
                }
                Op::Matmul => {
                    let c_id = other.ok_or_else(|| fail("matmul needs two operands"))?;
                    let c = constant(c_id)
                        .and_then(points)
                        .ok_or_else(|| fail("the matrix is not an exact constant"))?;
                    let cd = graph.nodes[c_id].shape.dims();
                    let (m, rows) = match (pos, cd.len()) {
                        (0, 2) => {
                            // x[p, k] · C[k, m]: row o of the map is column o of C.
                            let (k, m) = (cd[0], cd[1]);
                            let t: Vec<f64> = (0..m)
                                .flat_map(|o| (0..k).map(move |i| (o, i)))
                                .map(|(o, i)| c[i * m + o])
                                .collect();
                            let groups = chain.width / k.max(1);
                            (block_diagonal(&t, m, k, groups), groups * m)
                        }
                        (0, 1) => {
                            let k = cd[0];
                            let groups = chain.width / k.max(1);
                            (block_diagonal(&c, 1, k, groups), groups)
                        }
                        (1, 2) => {
                            // C[m, k] · x[k, cols]
                            let (m, k) = (cd[0], cd[1]);
                            let cols = chain.width / k.max(1);
                            let mut w = vec![0.0; m * cols * k * cols];
                            for i in 0..m {
                                for kk in 0..k {
                                    for j in 0..cols {
                                        w[(i * cols + j) * (k * cols) + kk * cols + j] =
                                            c[i * k + kk];
                                    }
                                }
                            }
                            (w, m * cols)
                        }
                        _ => return Err(fail("this matmul shape is not supported")),
                    };
                    if rows != n {
                        return Err(fail("matmul sizes do not match"));
                    }
                    chain.apply(m, rows).map_err(|m| fail(&m))?;
                }
                Op::Relu => {
                    let done = std::mem::replace(&mut chain, Chain::new(n));
                    layers.push(done.into_affine());
                }
                _ => return Err(fail("no layered form for this op")),
            }
            if chain.width != n {
                return Err(fail("element count changed unexpectedly"));
            }
            head = node.id;
        }
        if head != out {
            return Err(VerifyError::Mismatch(
                "the output does not depend on the input".into(),
            ));
        }
        layers.push(chain.into_affine());
        Ok(LayeredNet {
            n_inputs: n_in,
            layers,
        })
    }

    pub fn n_outputs(&self) -> usize {
        self.layers.last().map_or(self.n_inputs, |l| l.out)
    }

    /// Plain f64 evaluation with the bias midpoints (for attacks; not a sound value).
    /// Returns the pre-activations of every layer (the last is the output).
    pub fn forward(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let mut pre = Vec::with_capacity(self.layers.len());
        let mut h = x.to_vec();
        for (k, a) in self.layers.iter().enumerate() {
            let z: Vec<f64> = (0..a.out)
                .map(|o| {
                    let row = &a.weight[o * a.inn..(o + 1) * a.inn];
                    row.iter().zip(&h).map(|(w, v)| w * v).sum::<f64>() + a.bias_mid(o)
                })
                .collect();
            if k + 1 < self.layers.len() {
                h = z.iter().map(|v| v.max(0.0)).collect();
            }
            pre.push(z);
        }
        pre
    }

    /// Gradient with respect to the input of `c · output` at the point whose pre-activations
    /// `pre` came from [`Self::forward`].
    pub fn input_gradient(&self, pre: &[Vec<f64>], c: &[f64]) -> Vec<f64> {
        let mut g = c.to_vec();
        for k in (0..self.layers.len()).rev() {
            let a = &self.layers[k];
            if k + 1 < self.layers.len() {
                for (gj, z) in g.iter_mut().zip(&pre[k]) {
                    if *z <= 0.0 {
                        *gj = 0.0;
                    }
                }
            }
            let mut next = vec![0.0; a.inn];
            for (o, go) in g.iter().enumerate() {
                if *go != 0.0 {
                    let row = &a.weight[o * a.inn..(o + 1) * a.inn];
                    for (nj, w) in next.iter_mut().zip(row) {
                        *nj += go * w;
                    }
                }
            }
            g = next;
        }
        g
    }
}
