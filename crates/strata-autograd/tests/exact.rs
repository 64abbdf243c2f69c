//! Exact-rational checks of the gradients of polynomial and piecewise-linear ops.
//!
//! The compiled VJP graph runs in the `Fp32` layer, which computes every op's exact rational
//! result before rounding it. Inputs are small integers, so every intermediate is a binary32
//! number: evaluating with rounding toward −∞ and toward +∞ gives the same bits, which
//! certifies that no rounding happened and the gradient is the exact rational one. The oracle
//! is the central difference with h = 1/2, evaluated the same exact way: it equals the
//! derivative exactly for functions of degree ≤ 2 in each coordinate and for piecewise-linear
//! functions whose kinks are more than h away (integer inputs, distinct where ties matter).
//! Ops whose VJP is a native derivative kernel (convolution weights, pooling, strided-slice
//! scatters) have no reference rule in the layer interpreter yet and are checked by finite
//! differences and the adjoint identity in f64 only (strata-ir's tests/gradients.rs).

use strata_autograd::{Plan, Wrt};
use strata_float::RoundingMode;
use strata_ir::eval::ExecConfig;
use strata_ir::interpret;
use strata_ir::layer::{Exported, Fp32Layer};
use strata_ir::{Graph, GraphBuilder, Op, ParamStore, Reduction};
use strata_tensor::{DType, ReduceOrder, Rng, Tensor};

/// Small integers in [-4, 4] without 0 (kinks of relu and abs sit at 0), all distinct when
/// `distinct` (so max and max-pool have no ties).
fn ints(dims: &[usize], distinct: bool, rng: &mut Rng) -> Tensor {
    let n: usize = dims.iter().product();
    let values: Vec<f32> = if distinct {
        let perm = rng.permutation(n);
        perm.iter()
            .map(|&p| p as f32 - (n / 2) as f32 + 0.5)
            .map(|v| v * 2.0)
            .collect()
    } else {
        (0..n)
            .map(|_| {
                let k = rng.below(std::num::NonZeroU64::new(8).unwrap()) as f32 - 4.0;
                if k >= 0.0 {
                    k + 1.0
                } else {
                    k
                }
            })
            .collect()
    };
    Tensor::from_vec(values, dims.to_vec()).unwrap()
}

/// Runs `graph` in the Fp32 layer rounding down and up; both must agree (no rounding).
fn exact(graph: &Graph, inputs: &[Tensor]) -> Vec<Vec<f32>> {
    let run = |mode| {
        interpret::run(
            graph,
            &ParamStore::new(),
            inputs,
            &Fp32Layer::new(mode),
            ReduceOrder::Sequential,
        )
        .unwrap()
        .into_iter()
        .map(|e| match e {
            Exported::Point(t) => t.to_vec::<f32>().unwrap(),
            Exported::Interval { .. } => panic!("the Fp32 layer exports points"),
        })
        .collect::<Vec<_>>()
    };
    let (down, up) = (run(RoundingMode::TowardNeg), run(RoundingMode::TowardPos));
    assert_eq!(
        down, up,
        "a rounding happened: the inputs are not exact enough"
    );
    down
}

fn single_op_graph(op: &Op, shapes: &[Vec<usize>]) -> Graph {
    let mut b = GraphBuilder::new();
    let ids: Vec<usize> = (shapes.iter())
        .map(|s| {
            let op = Op::Input {
                shape: s.as_slice().into(),
                dtype: DType::F32,
            };
            b.push(op, &[]).unwrap()
        })
        .collect();
    let y = b.push(op.clone(), &ids).unwrap();
    b.finish(&[y]).unwrap()
}

#[test]
fn gradients_of_polynomial_and_piecewise_linear_ops_are_exact() {
    let mut rng = Rng::new(13);
    let cases: Vec<(Op, Vec<Vec<usize>>, bool)> = vec![
        (Op::Add, vec![vec![2, 3], vec![3]], false),
        (Op::Sub, vec![vec![2, 3], vec![2, 1]], false),
        (Op::Mul, vec![vec![2, 3], vec![2, 3]], false),
        (Op::Square, vec![vec![4]], false),
        (Op::Neg, vec![vec![4]], false),
        (Op::Relu, vec![vec![2, 3]], false),
        (Op::Abs, vec![vec![2, 3]], false),
        (
            Op::LeakyRelu {
                negative_slope: 0.25,
            },
            vec![vec![6]],
            false,
        ),
        (Op::Maximum, vec![vec![2, 3], vec![2, 3]], true),
        (Op::Minimum, vec![vec![6], vec![6]], true),
        (Op::Matmul, vec![vec![2, 3], vec![3, 2]], false),
        (
            Op::Linear { bias: true },
            vec![vec![2, 3], vec![2, 3], vec![2]],
            false,
        ),
        (
            Op::ReduceSum {
                axes: vec![1],
                keepdim: false,
            },
            vec![vec![2, 3]],
            false,
        ),
        (
            Op::ReduceMean {
                axes: vec![0, 1],
                keepdim: true,
            },
            vec![vec![2, 4]],
            false,
        ),
        (
            Op::ReduceMax {
                axes: vec![1],
                keepdim: false,
            },
            vec![vec![2, 4]],
            true,
        ),
        (
            Op::Pad {
                pads: vec![[1, 2]],
                value: 3.0,
            },
            vec![vec![2, 2]],
            false,
        ),
        (Op::Concat { axis: 0 }, vec![vec![1, 3], vec![2, 3]], false),
        (
            Op::Transpose { axis0: 0, axis1: 1 },
            vec![vec![2, 3]],
            false,
        ),
        (
            Op::MseLoss {
                reduction: Reduction::Sum,
            },
            vec![vec![2, 3], vec![2, 3]],
            false,
        ),
    ];
    for (op, shapes, distinct) in cases {
        let graph = single_op_graph(&op, &shapes);
        let x: Vec<Tensor> = shapes.iter().map(|s| ints(s, distinct, &mut rng)).collect();
        let out_dims = graph.nodes[graph.outputs[0]].shape.clone();
        let v = ints(out_dims.dims(), false, &mut rng);
        let plan = Plan::compile(&graph, Wrt::Inputs, ExecConfig::default()).unwrap();
        let feeds: Vec<Tensor> = x.iter().cloned().chain([v.clone()]).collect();
        let grads = exact(&plan.graph, &feeds);
        let v_values = v.to_vec::<f32>().unwrap();
        // ⟨v, f(x)⟩ exactly (the products are small integers times dyadics).
        let pairing = |args: &[Tensor]| -> f64 {
            let y = &exact(&graph, args)[0];
            y.iter()
                .zip(&v_values)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        };
        for (k, xk) in x.iter().enumerate() {
            let base = xk.to_vec::<f32>().unwrap();
            let grad = &grads[plan.forward_outputs + k];
            for i in 0..base.len() {
                let moved = |delta: f32| {
                    let mut data = base.clone();
                    data[i] += delta;
                    let mut args = x.clone();
                    args[k] = Tensor::from_vec(data, xk.dims().to_vec()).unwrap();
                    pairing(&args)
                };
                let fd = moved(0.5) - moved(-0.5);
                assert_eq!(
                    f64::from(grad[i]),
                    fd,
                    "{}: input {k} element {i}",
                    op.tag()
                );
            }
        }
    }
}
