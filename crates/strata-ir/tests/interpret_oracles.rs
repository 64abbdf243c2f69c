//! Independent oracles for the reference interpreter:
//! - the `f32` layer against strata-tensor's native kernels, bit for bit, where a kernel runs
//!   in a declared order the interpreter can name (elementwise maps, the reference matmul,
//!   reductions, softmax and layer norm rows within one pairwise block, pooling, indexing);
//! - the `f64` layer against naive f64 loops for the arithmetic-heavy ops (conv, transposed
//!   conv, attention, norms, losses);
//! - `ReduceOrder::fold` against `sum_in_order`; interval sin/cos/erf against sampled points;
//! - errors that name the node, the `Ieee32` flags, and `run`'s exported tensors.

use strata_float::interval::Interval;
use strata_float::{Flags, FpEnv};
use strata_ir::interpret::{interpret, run, Value};
use strata_ir::layer::{
    Exported, F32Layer, F64Layer, Fp32Layer, Ieee32Layer, IntervalLayer, NumericLayer,
    Transcendental,
};
use strata_ir::{AttentionMask, Graph, GraphBuilder, IrError, NodeId, Op, ParamStore, Reduction};
use strata_tensor::{AvgPool2dParams, Conv2dParams, ConvTranspose2dParams, MatmulKernel};
use strata_tensor::{DType, MaxPool2dParams, ReduceOp, ReduceOrder, Rng, Tensor};

const SEQ: ReduceOrder = ReduceOrder::Sequential;

fn randn(rng: &mut Rng, dims: &[usize], dtype: DType) -> Tensor {
    Tensor::randn(dims.to_vec(), dtype, rng).unwrap()
}

/// Pushes ops, panicking on a shape error (the test graphs are valid).
struct Builder(GraphBuilder);

impl Builder {
    fn op(&mut self, op: Op, inputs: &[NodeId]) -> NodeId {
        self.0.push(op, inputs).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A graph of one op on fresh inputs shaped like `inputs`.
fn graph(inputs: &[&Tensor], f: impl FnOnce(&mut Builder, &[NodeId]) -> NodeId) -> Graph {
    let mut b = Builder(GraphBuilder::new());
    let ids: Vec<NodeId> = (inputs.iter().enumerate())
        .map(|(i, t)| {
            let op = Op::Input {
                shape: t.shape().clone(),
                dtype: t.dtype(),
            };
            b.0.push_named(format!("x{i}"), op, &[]).unwrap()
        })
        .collect();
    let out = f(&mut b, &ids);
    b.0.finish(&[out]).unwrap()
}

fn eval<L: NumericLayer>(
    g: &Graph,
    inputs: &[&Tensor],
    layer: &L,
    order: ReduceOrder,
) -> Vec<L::Scalar> {
    let inputs: Vec<Tensor> = inputs.iter().map(|&t| t.clone()).collect();
    match interpret(g, &ParamStore::new(), &inputs, layer, order)
        .unwrap()
        .remove(0)
    {
        Value::Float(a) => a.data,
        Value::Tensor(t) => panic!("expected a float output, got {}", t.dtype()),
    }
}

fn assert_same_bits(name: &str, got: &[f32], want: &Tensor) {
    let want = want.to_vec::<f32>().unwrap();
    assert_eq!(got.len(), want.len(), "{name}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{name}[{i}]: {g} vs native {w}"
        );
    }
}

#[test]
fn fold_is_sum_in_order() {
    let mut rng = Rng::new(11);
    for len in 0..100 {
        let x = randn(&mut rng, &[len], DType::F32).to_vec::<f32>().unwrap();
        for order in [
            SEQ,
            ReduceOrder::Pairwise { block: 1 },
            ReduceOrder::Pairwise { block: 3 },
            ReduceOrder::Pairwise { block: 8 },
            ReduceOrder::default(),
        ] {
            let folded = order.fold(&x, &|| 0.0f32, &|a, b| a + b);
            assert_eq!(
                folded.to_bits(),
                strata_tensor::sum_in_order(&x, order).to_bits(),
                "{len} {order:?}"
            );
        }
    }
}

#[test]
fn f32_layer_matches_native_kernels_bit_for_bit() {
    let mut rng = Rng::new(12);
    let l = F32Layer::new();
    let x = randn(&mut rng, &[4, 9], DType::F32)
        .mul_scalar(3.0)
        .unwrap();
    type Kernel = fn(&Tensor) -> strata_tensor::Result<Tensor>;
    let unary: [(Op, Kernel); 20] = [
        (Op::Neg, Tensor::neg),
        (Op::Abs, Tensor::abs),
        (Op::Sqrt, Tensor::sqrt),
        (Op::Reciprocal, Tensor::reciprocal),
        (Op::Square, Tensor::square),
        (Op::Exp, Tensor::exp),
        (Op::Log, Tensor::log),
        (Op::Sin, Tensor::sin),
        (Op::Cos, Tensor::cos),
        (Op::Tanh, Tensor::tanh),
        (Op::Sigmoid, Tensor::sigmoid),
        (Op::Relu, Tensor::relu),
        (
            Op::Gelu {
                approximate: strata_ir::GeluApproximation::Erf,
            },
            Tensor::gelu,
        ),
        (
            Op::Gelu {
                approximate: strata_ir::GeluApproximation::Tanh,
            },
            Tensor::gelu_tanh,
        ),
        (Op::Silu, Tensor::silu),
        (
            Op::Softplus {
                beta: 1.0,
                threshold: 20.0,
            },
            Tensor::softplus,
        ),
        (Op::Erf, Tensor::erf),
        (Op::Sign, Tensor::sign),
        (Op::Floor, Tensor::floor),
        (Op::Softmax { axis: -1 }, |t| t.softmax(-1)),
    ];
    for (op, kernel) in unary {
        let g = graph(&[&x], |b, i| b.op(op.clone(), &[i[0]]));
        assert_same_bits(op.tag(), &eval(&g, &[&x], &l, SEQ), &kernel(&x).unwrap());
    }
    let g = graph(&[&x], |b, i| {
        b.op(
            Op::LeakyRelu {
                negative_slope: 0.2,
            },
            &[i[0]],
        )
    });
    assert_same_bits(
        "leaky_relu",
        &eval(&g, &[&x], &l, SEQ),
        &x.leaky_relu(0.2).unwrap(),
    );
    let g = graph(&[&x], |b, i| b.op(Op::LogSoftmax { axis: 0 }, &[i[0]]));
    assert_same_bits(
        "log_softmax",
        &eval(&g, &[&x], &l, SEQ),
        &x.log_softmax(0).unwrap(),
    );
    let g = graph(&[&x], |b, i| {
        b.op(
            Op::LayerNorm {
                normalized_shape: vec![9],
                eps: 1e-5,
                affine: false,
            },
            &[i[0]],
        )
    });
    assert_same_bits(
        "layer_norm",
        &eval(&g, &[&x], &l, SEQ),
        &x.layer_norm(&[9], None, None, 1e-5).unwrap(),
    );

    let y = randn(&mut rng, &[9], DType::F32);
    type Binary = fn(&Tensor, &Tensor) -> strata_tensor::Result<Tensor>;
    let binary: [(Op, Binary); 7] = [
        (Op::Add, Tensor::add),
        (Op::Sub, Tensor::sub),
        (Op::Mul, Tensor::mul),
        (Op::Div, Tensor::div),
        (Op::Pow, Tensor::pow),
        (Op::Maximum, Tensor::maximum),
        (Op::Minimum, Tensor::minimum),
    ];
    for (op, kernel) in binary {
        let g = graph(&[&x, &y], |b, i| b.op(op.clone(), &[i[0], i[1]]));
        assert_same_bits(
            op.tag(),
            &eval(&g, &[&x, &y], &l, SEQ),
            &kernel(&x, &y).unwrap(),
        );
    }

    let (a, m) = (
        randn(&mut rng, &[3, 2, 40], DType::F32),
        randn(&mut rng, &[40, 5], DType::F32),
    );
    for order in [SEQ, ReduceOrder::Pairwise { block: 4 }] {
        let g = graph(&[&a, &m], |b, i| b.op(Op::Matmul, &[i[0], i[1]]));
        let native = a.matmul_with(&m, MatmulKernel::Reference(order)).unwrap();
        assert_same_bits("matmul", &eval(&g, &[&a, &m], &l, order), &native);
        for (op, rop) in [
            (
                Op::ReduceSum {
                    axes: vec![2, 0],
                    keepdim: true,
                },
                ReduceOp::Sum,
            ),
            (
                Op::ReduceMean {
                    axes: vec![2, 0],
                    keepdim: true,
                },
                ReduceOp::Mean,
            ),
            (
                Op::ReduceMax {
                    axes: vec![2, 0],
                    keepdim: true,
                },
                ReduceOp::Max,
            ),
        ] {
            let g = graph(&[&a], |b, i| b.op(op.clone(), &[i[0]]));
            let native = a.reduce(rop, &[2, 0], true, order).unwrap();
            assert_same_bits(op.tag(), &eval(&g, &[&a], &l, order), &native);
        }
    }

    let img = randn(&mut rng, &[2, 3, 7, 6], DType::F32);
    let maxp = MaxPool2dParams {
        kernel: [3, 2],
        stride: [2, 1],
        padding: [1, 1],
        dilation: [2, 1],
        ceil_mode: true,
    };
    let avgp = AvgPool2dParams {
        kernel: [2, 3],
        stride: [2, 2],
        padding: [1, 1],
        ceil_mode: true,
        count_include_pad: true,
        divisor_override: None,
    };
    let g = graph(&[&img], |b, i| {
        b.op(Op::MaxPool2d { params: maxp }, &[i[0]])
    });
    assert_same_bits(
        "max_pool2d",
        &eval(&g, &[&img], &l, SEQ),
        &img.max_pool2d(&maxp).unwrap(),
    );
    let g = graph(&[&img], |b, i| {
        b.op(Op::AvgPool2d { params: avgp }, &[i[0]])
    });
    assert_same_bits(
        "avg_pool2d",
        &eval(&g, &[&img], &l, SEQ),
        &img.avg_pool2d(&avgp).unwrap(),
    );
    let g = graph(&[&img], |b, i| {
        b.op(
            Op::AdaptiveAvgPool2d {
                output_size: [4, 4],
            },
            &[i[0]],
        )
    });
    assert_same_bits(
        "adaptive_avg_pool2d",
        &eval(&g, &[&img], &l, SEQ),
        &img.adaptive_avg_pool2d([4, 4]).unwrap(),
    );

    let (mean, var) = (
        randn(&mut rng, &[3], DType::F32),
        randn(&mut rng, &[3], DType::F32).abs().unwrap(),
    );
    let g = graph(&[&img, &mean, &var], |b, i| {
        b.op(
            Op::BatchNorm {
                eps: 1e-5,
                affine: false,
            },
            &[i[0], i[1], i[2]],
        )
    });
    let native = img
        .batch_norm(&mean, &var, None, None, false, 0.1, 1e-5)
        .unwrap()
        .output;
    assert_same_bits(
        "batch_norm",
        &eval(&g, &[&img, &mean, &var], &l, SEQ),
        &native,
    );

    let table = randn(&mut rng, &[6, 4], DType::F32);
    let idx = Tensor::from_vec(vec![5i64, 0, 3, 3], [2, 2]).unwrap();
    let g = graph(&[&idx, &table], |b, i| b.op(Op::Embedding, &[i[0], i[1]]));
    assert_same_bits(
        "embedding",
        &eval(&g, &[&idx, &table], &l, SEQ),
        &table.embedding(&idx).unwrap(),
    );
    let g = graph(&[&table, &idx], |b, i| {
        b.op(Op::Gather { axis: 0 }, &[i[0], i[1]])
    });
    assert_same_bits(
        "gather",
        &eval(&g, &[&table, &idx], &l, SEQ),
        &table.gather(0, &idx).unwrap(),
    );
}

// ----- naive f64 oracles -----

fn close(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "{name}[{i}]: {g} vs {w}"
        );
    }
}

fn v64(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64()
}

#[test]
fn f64_layer_matches_naive_loops() {
    let mut rng = Rng::new(13);
    let l = F64Layer::new();
    let order = ReduceOrder::default();
    // conv2d with stride, padding, dilation and groups.
    let (n, c, h, w, o, g, k) = (2, 4, 7, 6, 6, 2, [3, 2]);
    let p = Conv2dParams {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: g,
    };
    let (x, wt, bias) = (
        randn(&mut rng, &[n, c, h, w], DType::F64),
        randn(&mut rng, &[o, c / g, k[0], k[1]], DType::F64),
        randn(&mut rng, &[o], DType::F64),
    );
    let gr = graph(&[&x, &wt, &bias], |b, i| {
        b.op(
            Op::Conv2d {
                params: p,
                bias: true,
            },
            &[i[0], i[1], i[2]],
        )
    });
    let got = eval(&gr, &[&x, &wt, &bias], &l, order);
    let (xs, ws, bs) = (v64(&x), v64(&wt), v64(&bias));
    let out_len = |len: usize, a: usize| {
        (len + 2 * p.padding[a] - p.dilation[a] * (k[a] - 1) - 1) / p.stride[a] + 1
    };
    let (ho, wo) = (out_len(h, 0), out_len(w, 1));
    let mut want = vec![];
    for b in 0..n {
        for oc in 0..o {
            let grp = oc / (o / g);
            for y in 0..ho {
                for xo in 0..wo {
                    let mut s = bs[oc];
                    for ci in 0..c / g {
                        for ky in 0..k[0] {
                            for kx in 0..k[1] {
                                let iy = (y * p.stride[0] + ky * p.dilation[0]) as isize
                                    - p.padding[0] as isize;
                                let ix = (xo * p.stride[1] + kx * p.dilation[1]) as isize
                                    - p.padding[1] as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                let ch = grp * (c / g) + ci;
                                s += xs[((b * c + ch) * h + iy as usize) * w + ix as usize]
                                    * ws[((oc * (c / g) + ci) * k[0] + ky) * k[1] + kx];
                            }
                        }
                    }
                    want.push(s);
                }
            }
        }
    }
    close("conv2d", &got, &want);

    // conv_transpose2d: scatter every input tap.
    let tp = ConvTranspose2dParams {
        stride: [2, 3],
        padding: [1, 0],
        output_padding: [1, 2],
        dilation: [1, 2],
        groups: 2,
    };
    let (x, wt) = (
        randn(&mut rng, &[1, 4, 3, 3], DType::F64),
        randn(&mut rng, &[4, 3, 2, 2], DType::F64),
    );
    let gr = graph(&[&x, &wt], |b, i| {
        b.op(
            Op::ConvTranspose2d {
                params: tp,
                bias: false,
            },
            &[i[0], i[1]],
        )
    });
    let got = eval(&gr, &[&x, &wt], &l, order);
    let (ho, wo) = ((3 - 1) * 2 - 2 + 1 + 1 + 1, (3 - 1) * 3 + 2 + 2 + 1);
    let mut want = vec![0.0; 6 * ho * wo];
    let (xs, ws) = (v64(&x), v64(&wt));
    for ch in 0..4 {
        let grp = ch / 2;
        for iy in 0..3 {
            for ix in 0..3 {
                for ol in 0..3 {
                    for ky in 0..2 {
                        for kx in 0..2 {
                            let oy = (iy * 2 + ky) as isize - 1;
                            let ox = (ix * 3 + kx * 2) as isize;
                            if oy < 0 || oy >= ho as isize || ox >= wo as isize {
                                continue;
                            }
                            let oc = grp * 3 + ol;
                            want[(oc * ho + oy as usize) * wo + ox as usize] +=
                                xs[(ch * 3 + iy) * 3 + ix] * ws[((ch * 3 + ol) * 2 + ky) * 2 + kx];
                        }
                    }
                }
            }
        }
    }
    close("conv_transpose2d", &got, &want);

    // Attention, causal, and an explicit mask.
    let (q, kk, vv) = (
        randn(&mut rng, &[2, 3, 4], DType::F64),
        randn(&mut rng, &[2, 5, 4], DType::F64),
        randn(&mut rng, &[2, 5, 2], DType::F64),
    );
    let mask =
        Tensor::from_vec((0..15).map(|i| i % 4 != 1).collect::<Vec<bool>>(), [3, 5]).unwrap();
    for (kind, scale) in [
        (AttentionMask::Causal, None),
        (AttentionMask::Explicit, Some(0.7)),
    ] {
        let ins: Vec<&Tensor> = if kind == AttentionMask::Explicit {
            vec![&q, &kk, &vv, &mask]
        } else {
            vec![&q, &kk, &vv]
        };
        let gr = graph(&ins, |b, i| {
            b.op(Op::ScaledDotProductAttention { mask: kind, scale }, i)
        });
        let got = eval(&gr, &ins, &l, order);
        let (qs, ks, vs, ms) = (v64(&q), v64(&kk), v64(&vv), mask.to_vec::<bool>().unwrap());
        let sc = scale.unwrap_or(0.5);
        let mut want = vec![];
        for b in 0..2 {
            for i in 0..3 {
                let keep = |j: usize| {
                    if kind == AttentionMask::Causal {
                        j <= i
                    } else {
                        ms[i * 5 + j]
                    }
                };
                let s: Vec<f64> = (0..5)
                    .map(|j| {
                        (0..4)
                            .map(|e| qs[(b * 3 + i) * 4 + e] * ks[(b * 5 + j) * 4 + e])
                            .sum::<f64>()
                            * sc
                    })
                    .collect();
                let m = (0..5)
                    .filter(|&j| keep(j))
                    .map(|j| s[j])
                    .fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = (0..5)
                    .map(|j| if keep(j) { (s[j] - m).exp() } else { 0.0 })
                    .collect();
                let z: f64 = e.iter().sum();
                for ev in 0..2 {
                    want.push((0..5).map(|j| e[j] / z * vs[(b * 5 + j) * 2 + ev]).sum());
                }
            }
        }
        close("attention", &got, &want);
    }

    // Norms.
    let x = randn(&mut rng, &[2, 4, 3], DType::F64);
    let (wn, bn) = (
        randn(&mut rng, &[4], DType::F64),
        randn(&mut rng, &[4], DType::F64),
    );
    let xs = v64(&x);
    let standardize = |v: &[f64], eps: f64| -> Vec<f64> {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / v.len() as f64;
        v.iter().map(|a| (a - mean) / (var + eps).sqrt()).collect()
    };
    let gr = graph(&[&x, &wn, &bn], |b, i| {
        b.op(
            Op::GroupNorm {
                num_groups: 2,
                eps: 1e-5,
                affine: true,
            },
            &[i[0], i[1], i[2]],
        )
    });
    let got = eval(&gr, &[&x, &wn, &bn], &l, order);
    let (ws, bs) = (v64(&wn), v64(&bn));
    let want: Vec<f64> = (xs
        .chunks(6)
        .flat_map(|grp| standardize(grp, 1e-5))
        .enumerate())
    .map(|(i, y)| y * ws[(i / 3) % 4] + bs[(i / 3) % 4])
    .collect();
    close("group_norm", &got, &want);
    let gr = graph(&[&x], |b, i| {
        b.op(
            Op::LayerNorm {
                normalized_shape: vec![4, 3],
                eps: 1e-3,
                affine: false,
            },
            &[i[0]],
        )
    });
    close(
        "layer_norm",
        &eval(&gr, &[&x], &l, order),
        &xs.chunks(12)
            .flat_map(|r| standardize(r, 1e-3))
            .collect::<Vec<_>>(),
    );
    let gr = graph(&[&x], |b, i| {
        b.op(
            Op::RmsNorm {
                normalized_shape: vec![3],
                eps: None,
                affine: false,
            },
            &[i[0]],
        )
    });
    let want: Vec<f64> = xs
        .chunks(3)
        .flat_map(|r| {
            let ms = r.iter().map(|a| a * a).sum::<f64>() / 3.0;
            r.iter()
                .map(move |a| a / (ms + f64::EPSILON).sqrt())
                .collect::<Vec<_>>()
        })
        .collect();
    close("rms_norm", &eval(&gr, &[&x], &l, order), &want);

    // Losses.
    let (logits, target) = (
        randn(&mut rng, &[3, 4, 2], DType::F64),
        randn(&mut rng, &[3, 4, 2], DType::F64),
    );
    let labels = Tensor::from_vec(vec![0i64, 3, 1, 2, 3, 0], [3, 2]).unwrap();
    let (ls, ts, ys) = (v64(&logits), v64(&target), labels.to_vec::<i64>().unwrap());
    let gr = graph(&[&logits, &labels], |b, i| {
        b.op(
            Op::CrossEntropy {
                reduction: Reduction::Mean,
            },
            &[i[0], i[1]],
        )
    });
    let mut total = 0.0;
    for nn in 0..3 {
        for d in 0..2 {
            let row: Vec<f64> = (0..4).map(|cl| ls[(nn * 4 + cl) * 2 + d]).collect();
            let lse = row.iter().map(|a| a.exp()).sum::<f64>().ln();
            total += lse - row[ys[nn * 2 + d] as usize];
        }
    }
    close(
        "cross_entropy",
        &eval(&gr, &[&logits, &labels], &l, order),
        &[total / 6.0],
    );
    let gr = graph(&[&logits, &target], |b, i| {
        b.op(
            Op::BceWithLogits {
                reduction: Reduction::None,
            },
            &[i[0], i[1]],
        )
    });
    let want: Vec<f64> = ls
        .iter()
        .zip(&ts)
        .map(|(&z, &t)| {
            let s = 1.0 / (1.0 + (-z).exp());
            -(t * s.ln() + (1.0 - t) * (1.0 - s).ln())
        })
        .collect();
    let got = eval(&gr, &[&logits, &target], &l, order);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-10 * (1.0 + w.abs()), "bce: {g} vs {w}");
    }
    let gr = graph(&[&logits, &target], |b, i| {
        b.op(
            Op::MseLoss {
                reduction: Reduction::Sum,
            },
            &[i[0], i[1]],
        )
    });
    close(
        "mse",
        &eval(&gr, &[&logits, &target], &l, order),
        &[ls.iter().zip(&ts).map(|(a, b)| (a - b) * (a - b)).sum()],
    );
}

#[test]
fn interval_sin_cos_erf_enclose_sampled_points() {
    let mut rng = Rng::new(14);
    for _ in 0..2000 {
        let lo = (rng.next_f64() - 0.5) * 40.0;
        let hi = lo + rng.next_f64() * rng.next_f64() * 8.0;
        let x = Some(Interval::new(lo, hi).unwrap());
        for (f, point) in [
            (Transcendental::Sin, f64::sin as fn(f64) -> f64),
            (Transcendental::Cos, f64::cos),
            (Transcendental::Erf, libm_erf),
        ] {
            let b = IntervalLayer.transcendental(f, &x).unwrap().unwrap();
            for k in 0..=16 {
                let t = lo + (hi - lo) * k as f64 / 16.0;
                assert!(
                    b.contains(point(t)),
                    "{f:?} over [{lo}, {hi}] = {b} misses {t}"
                );
            }
            if f != Transcendental::Erf && hi - lo < 1e-3 {
                assert!(
                    b.hi() - b.lo() < 2e-3,
                    "{f:?} over [{lo}, {hi}] is loose: {b}"
                );
            }
        }
    }
}

fn libm_erf(x: f64) -> f64 {
    <f64 as strata_tensor::Float>::erf(x)
}

#[test]
fn errors_name_the_node_and_bindings_are_checked() {
    let table = Tensor::zeros([3, 2], DType::F32).unwrap();
    let bad = Tensor::from_vec(vec![0i64, 7], [2]).unwrap();
    let g = graph(&[&bad, &table], |b, i| b.op(Op::Embedding, &[i[0], i[1]]));
    let err = interpret(
        &g,
        &ParamStore::new(),
        &[bad.clone(), table.clone()],
        &F32Layer::new(),
        SEQ,
    )
    .unwrap_err();
    assert!(
        matches!(&err, IrError::Eval { op: "embedding", node, .. } if node.id == 2),
        "{err}"
    );
    assert!(err.to_string().contains("index 7 is out of range"), "{err}");
    let err = interpret(
        &g,
        &ParamStore::new(),
        std::slice::from_ref(&table),
        &F32Layer::new(),
        SEQ,
    )
    .unwrap_err();
    assert!(matches!(err, IrError::Binding { .. }), "{err}");

    let mut b = Builder(GraphBuilder::new());
    let w = b.op(
        Op::Parameter {
            name: "w".into(),
            shape: [2].into(),
            dtype: DType::F32,
        },
        &[],
    );
    let y = b.op(Op::Relu, &[w]);
    let g = b.0.finish(&[y]).unwrap();
    let err = interpret(&g, &ParamStore::new(), &[], &F32Layer::new(), SEQ).unwrap_err();
    assert!(err.to_string().contains("parameter `w`"), "{err}");

    // Intervals cannot decide a comparison of overlapping enclosures.
    let x = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap();
    let g = graph(&[&x], |b, i| {
        let s = b.op(Op::Add, &[i[0], i[0]]);
        b.op(
            Op::Compare {
                cmp: strata_ir::Comparison::Lt,
            },
            &[s, s],
        )
    });
    let err = interpret(
        &g,
        &ParamStore::new(),
        std::slice::from_ref(&x),
        &IntervalLayer,
        SEQ,
    )
    .unwrap_err();
    assert!(matches!(&err, IrError::Eval { op: "compare", .. }), "{err}");
    assert!(err.to_string().contains("cannot decide"), "{err}");
    let bits = interpret(&g, &ParamStore::new(), &[x], &F32Layer::new(), SEQ).unwrap();
    assert!(
        matches!(&bits[0], Value::Tensor(t) if t.to_vec::<bool>().unwrap() == vec![false, false])
    );
}

#[test]
fn run_exports_tensors_and_names_where_fp32_left_the_finite_path() {
    let x = Tensor::from_vec(vec![3e38f32, 1.0], [2]).unwrap();
    let g = graph(&[&x], |b, i| {
        let big = b.op(Op::Square, &[i[0]]);
        let r = b.op(Op::Relu, &[big]);
        b.op(Op::Neg, &[r])
    });
    let inputs = [x.clone()];
    let err = run(&g, &ParamStore::new(), &inputs, &Fp32Layer::default(), SEQ).unwrap_err();
    assert!(
        matches!(&err, IrError::Eval { op: "square", node, .. } if node.id == 1),
        "{err}"
    );
    match &run(&g, &ParamStore::new(), &inputs, &F32Layer::new(), SEQ).unwrap()[0] {
        Exported::Point(t) => assert_eq!(t.to_vec::<f32>().unwrap(), vec![f32::NEG_INFINITY, -1.0]),
        other => panic!("{other:?}"),
    }
    let small = Tensor::from_vec(vec![0.1f32, -2.0], [2]).unwrap();
    match &run(&g, &ParamStore::new(), &[small], &IntervalLayer, SEQ).unwrap()[0] {
        Exported::Interval { lo, hi } => {
            let (lo, hi) = (lo.to_vec::<f64>().unwrap(), hi.to_vec::<f64>().unwrap());
            let want = -f64::from(0.1f32) * f64::from(0.1f32);
            assert!(lo[0] <= want && want <= hi[0] && hi[0] - lo[0] < 1e-17);
            // Even an exact product is widened one step outward on each side.
            assert!(lo[1] < -4.0 && -4.0 < hi[1] && hi[1] - lo[1] < 4.0 * f64::EPSILON * 4.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ieee32_layer_accumulates_flags() {
    let x = Tensor::from_vec(vec![0.0f32, -1.0, 3.0], [3]).unwrap();
    let g = graph(&[&x], |b, i| {
        let r = b.op(Op::Reciprocal, &[i[0]]);
        b.op(Op::Sqrt, &[r])
    });
    let layer = Ieee32Layer::new(FpEnv::DEFAULT);
    interpret(&g, &ParamStore::new(), &[x], &layer, SEQ).unwrap();
    let flags = layer.take_flags();
    for f in [Flags::DIV_BY_ZERO, Flags::INVALID, Flags::INEXACT] {
        assert!(flags.contains(f), "{flags}");
    }
    assert!(layer.flags().is_empty());
}
