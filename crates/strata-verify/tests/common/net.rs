//! Helpers shared by the bound and verification tests (included with `#[path]`).
#![allow(dead_code)]

use strata_ir::{Graph, GraphBuilder, NodeId, Op, ParamStore};
use strata_tensor::{DType, Tensor};

pub struct Rng(pub u64);

impl Rng {
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.bits() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn param(
    b: &mut GraphBuilder,
    params: &mut ParamStore,
    name: &str,
    dims: &[usize],
    data: Vec<f64>,
    dtype: DType,
) -> NodeId {
    let t = match dtype {
        DType::F32 => Tensor::from_vec(
            data.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            dims.to_vec(),
        ),
        _ => Tensor::from_vec(data, dims.to_vec()),
    }
    .unwrap();
    params.insert(name.to_string(), t);
    b.push(
        Op::Parameter {
            name: name.into(),
            shape: dims.to_vec().into(),
            dtype,
        },
        &[],
    )
    .unwrap()
}

/// A random ReLU MLP `widths[0] → … → widths.last()`, input `[1, widths[0]]`. With `mixed`, layers
/// alternate between `linear` and `matmul + add` (weights `[in, out]`), with a `flatten` and a
/// `sub` of a constant offset at the input, as ONNX imports produce them.
pub fn mlp(widths: &[usize], seed: u64, dtype: DType, mixed: bool) -> (Graph, ParamStore) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut b = GraphBuilder::new();
    let mut params = ParamStore::new();
    let mut x = b
        .push_named(
            "x",
            Op::Input {
                shape: vec![1, widths[0]].into(),
                dtype,
            },
            &[],
        )
        .unwrap();
    if mixed {
        let off = param(
            &mut b,
            &mut params,
            "offset",
            &[widths[0]],
            (0..widths[0]).map(|_| rng.uniform(-0.1, 0.1)).collect(),
            dtype,
        );
        x = b.push(Op::Sub, &[x, off]).unwrap();
        x = b
            .push(
                Op::Flatten {
                    start_axis: 0,
                    end_axis: -1,
                },
                &[x],
            )
            .unwrap();
        x = b.push(Op::Reshape { shape: vec![1, -1] }, &[x]).unwrap();
    }
    let layers = widths.len() - 1;
    for l in 0..layers {
        let (i, o) = (widths[l], widths[l + 1]);
        let scale = (2.0 / i as f64).sqrt();
        let w: Vec<f64> = (0..i * o).map(|_| rng.uniform(-scale, scale)).collect();
        let bias: Vec<f64> = (0..o).map(|_| rng.uniform(-0.3, 0.3)).collect();
        if mixed && l % 2 == 1 {
            let wn = param(&mut b, &mut params, &format!("w{l}"), &[i, o], w, dtype);
            let bn = param(&mut b, &mut params, &format!("b{l}"), &[o], bias, dtype);
            let m = b.push(Op::Matmul, &[x, wn]).unwrap();
            x = b.push(Op::Add, &[m, bn]).unwrap();
        } else {
            let wn = param(&mut b, &mut params, &format!("w{l}"), &[o, i], w, dtype);
            let bn = param(&mut b, &mut params, &format!("b{l}"), &[o], bias, dtype);
            x = b.push(Op::Linear { bias: true }, &[x, wn, bn]).unwrap();
        }
        if l + 1 < layers {
            x = b.push(Op::Relu, &[x]).unwrap();
        }
    }
    (b.finish(&[x]).unwrap(), params)
}

/// y = relu(x0 + x1) + relu(x0 − x1), x ∈ [−1, 1]²: the true range of y is [0, 2]. Returns the
/// graph (its output is y), its parameters and the pre-activation node.
pub fn two_neurons() -> (Graph, ParamStore, NodeId) {
    let mut b = GraphBuilder::new();
    let mut params = ParamStore::new();
    params.insert(
        "w1".into(),
        Tensor::from_vec(vec![1.0f32, 1.0, 1.0, -1.0], vec![2, 2]).unwrap(),
    );
    params.insert(
        "w2".into(),
        Tensor::from_vec(vec![1.0f32, 1.0], vec![1, 2]).unwrap(),
    );
    let x = b
        .push(
            Op::Input {
                shape: vec![2].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let w1 = b
        .push(
            Op::Parameter {
                name: "w1".into(),
                shape: vec![2, 2].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let w2 = b
        .push(
            Op::Parameter {
                name: "w2".into(),
                shape: vec![1, 2].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let h = b.push(Op::Linear { bias: false }, &[x, w1]).unwrap();
    let z = b.push(Op::Relu, &[h]).unwrap();
    let y = b.push(Op::Linear { bias: false }, &[z, w2]).unwrap();
    (b.finish(&[y]).unwrap(), params, h)
}
