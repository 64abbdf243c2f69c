//! The tape, the functional API and compiled plans against closed forms, finite differences
//! and each other (eager vs compiled: the same values and gradients, bit for bit).

use strata_autograd::functional::{grad, hessian_vector_product, jacobian, jvp, vjp};
use strata_autograd::{AutogradError, Plan, Tape, Var, Wrt};
use strata_ir::eval::ExecConfig;
use strata_ir::{Op, Reduction};
use strata_tensor::{init, DType, Rng, Tensor};

fn t(v: &[f64], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims.to_vec()).unwrap()
}

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn fan_out_contributions_are_summed() {
    // y = x·x + x (x used three times): dy/dx = 2x + 1.
    let tape = Tape::new();
    let x = tape.input(t(&[1.5, -2.0], &[2]), true);
    let y = x.mul(&x).unwrap().add(&x).unwrap().sum_all().unwrap();
    let g = tape.backward(&y).unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), [4.0, -3.0]);
}

#[test]
fn no_grad_detach_and_unused_leaves() {
    let tape = Tape::new();
    let x = tape.input(t(&[3.0], &[1]), true);
    let _unused = tape.parameter("unused", t(&[1.0, 2.0], &[2]));
    let stopped = x.detach().unwrap();
    let inside = tape.no_grad(|| x.square().unwrap());
    assert!(!inside.requires_grad() && !stopped.requires_grad());
    let y = x
        .mul(&stopped)
        .unwrap()
        .add(&inside)
        .unwrap()
        .sum_all()
        .unwrap();
    let g = tape.backward(&y).unwrap();
    // Only the un-detached factor carries a gradient: d/dx (x·c + c') = c = 3.
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), [3.0]);
    assert_eq!(g.by_name()["unused"].to_vec::<f64>().unwrap(), [0.0, 0.0]);
    assert!(matches!(
        tape.backward(&x),
        Err(AutogradError::NotScalar(_))
    ));
}

#[test]
fn functional_api_against_closed_forms() {
    // f(x) = Σ x³: ∇f = 3x², H = diag(6x).
    let cube = |_: &Tape, x: &[Var]| x[0].square()?.mul(&x[0])?.sum_all();
    let x = t(&[0.5, -1.0, 2.0], &[3]);
    let g = grad(cube, std::slice::from_ref(&x)).unwrap();
    close(&g[0], &t(&[0.75, 3.0, 12.0], &[3]), 1e-15);
    let v = t(&[1.0, 2.0, -1.0], &[3]);
    let hv =
        hessian_vector_product(cube, std::slice::from_ref(&x), std::slice::from_ref(&v)).unwrap();
    close(&hv[0], &t(&[3.0, -12.0, -12.0], &[3]), 1e-15);
    // A linear map: its Jacobian is the matrix, its JVP and VJP the products.
    let a = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let a2 = a.clone();
    let map = move |tape: &Tape, x: &[Var]| tape.constant(a2.clone()).matmul(&x[0]);
    let j = jacobian(&map, &x).unwrap();
    close(&j, &a, 0.0);
    let (_, jv) = jvp(&map, std::slice::from_ref(&x), std::slice::from_ref(&v)).unwrap();
    close(&jv, &t(&[2.0, 8.0], &[2]), 0.0);
    let (_, vj) = vjp(&map, std::slice::from_ref(&x), t(&[1.0, -1.0], &[2])).unwrap();
    close(&vj[0], &t(&[-3.0, -3.0, -3.0], &[3]), 0.0);
}

#[test]
fn hessian_vector_product_matches_finite_differences_of_the_gradient() {
    // A small MLP loss in its weights: H v ≈ (∇f(w + h v) − ∇f(w − h v)) / 2h.
    let mut rng = Rng::new(5);
    let data = Tensor::randn([4, 3], DType::F64, &mut rng).unwrap();
    let labels = Tensor::from_vec(vec![0i64, 2, 1, 2], [4]).unwrap();
    let f = move |tape: &Tape, w: &[Var]| {
        let x = tape.constant(data.clone());
        let y = tape.constant(labels.clone());
        let h = x.linear(&w[0], None)?.tanh()?;
        h.linear(&w[1], None)?.cross_entropy(&y, Reduction::Mean)
    };
    let w = vec![
        Tensor::randn([5, 3], DType::F64, &mut rng).unwrap(),
        Tensor::randn([3, 5], DType::F64, &mut rng).unwrap(),
    ];
    let v = vec![
        Tensor::randn([5, 3], DType::F64, &mut rng).unwrap(),
        Tensor::randn([3, 5], DType::F64, &mut rng).unwrap(),
    ];
    let hv = hessian_vector_product(&f, &w, &v).unwrap();
    let h = 1e-5;
    let shifted = |sign: f64| -> Vec<Tensor> {
        let moved: Vec<Tensor> = (w.iter().zip(&v))
            .map(|(a, b)| a.add(&b.mul_scalar(sign * h).unwrap()).unwrap())
            .collect();
        grad(&f, &moved).unwrap()
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    for k in 0..2 {
        let fd = plus[k].sub(&minus[k]).unwrap().div_scalar(2.0 * h).unwrap();
        close(&hv[k], &fd, 1e-6);
    }
}

/// A two-layer MLP with cross-entropy, on a tracing tape.
fn mlp_loss(tape: &Tape, x: &Tensor, labels: &Tensor, params: &[(String, Tensor)]) -> (Var, Var) {
    let p = |name: &str| {
        let (n, v) = params.iter().find(|(n, _)| n == name).unwrap();
        tape.parameter(n.clone(), v.clone())
    };
    let x = tape.input(x.clone(), false);
    let y = tape.input(labels.clone(), false);
    let h = x
        .flatten(1, -1)
        .unwrap()
        .linear(&p("0.weight"), Some(&p("0.bias")))
        .unwrap()
        .relu()
        .unwrap();
    let logits = h.linear(&p("2.weight"), Some(&p("2.bias"))).unwrap();
    let loss = logits.cross_entropy(&y, Reduction::Mean).unwrap();
    (logits, loss)
}

#[test]
fn eager_and_compiled_agree_bit_for_bit_on_an_mlp() {
    let mut rng = Rng::new(1);
    let params: Vec<(String, Tensor)> = [("0", [16, 12]), ("2", [5, 16])]
        .into_iter()
        .flat_map(|(layer, shape)| {
            let shape = strata_tensor::Shape::from(shape);
            let w = init::torch_default_weight(&shape, DType::F32, &mut rng).unwrap();
            let b = init::torch_default_bias(&shape, DType::F32, &mut rng).unwrap();
            [(format!("{layer}.weight"), w), (format!("{layer}.bias"), b)]
        })
        .collect();
    let x = Tensor::randn([8, 3, 4], DType::F32, &mut rng).unwrap();
    let labels = Tensor::from_vec((0..8).map(|i| i % 5).collect::<Vec<i64>>(), [8]).unwrap();
    // Eager.
    let tape = Tape::tracing();
    let (_, loss) = mlp_loss(&tape, &x, &labels, &params);
    let eager = tape.backward(&loss).unwrap();
    // Compiled from the trace, run twice on new data without re-tracing.
    let (graph, store) = tape.trace(&[&loss]).unwrap();
    let plan = Plan::compile(&graph, Wrt::Params, ExecConfig::default()).unwrap();
    let one = Tensor::ones([], DType::F32).unwrap();
    let run = plan
        .run(
            &store,
            &[x.clone(), labels.clone()],
            std::slice::from_ref(&one),
        )
        .unwrap();
    assert_eq!(
        run.outputs[0].to_vec::<f32>().unwrap(),
        loss.value().to_vec::<f32>().unwrap()
    );
    for (name, g) in eager.by_name() {
        assert_eq!(
            run.gradients[name].to_vec::<f32>().unwrap(),
            g.to_vec::<f32>().unwrap(),
            "{name}"
        );
    }
    let x2 = Tensor::randn([8, 3, 4], DType::F32, &mut rng).unwrap();
    let again = plan
        .run(&store, &[x2.clone(), labels.clone()], &[one])
        .unwrap();
    let tape2 = Tape::new();
    let (_, loss2) = mlp_loss(&tape2, &x2, &labels, &params);
    let eager2 = tape2.backward(&loss2).unwrap();
    assert_eq!(
        again.outputs[0].to_vec::<f32>().unwrap(),
        loss2.value().to_vec::<f32>().unwrap()
    );
    assert_eq!(
        again.gradients["0.weight"].to_vec::<f32>().unwrap(),
        eager2.by_name()["0.weight"].to_vec::<f32>().unwrap()
    );
    assert!(plan.live_nodes() < plan.graph.nodes.len() + 1);
}

#[test]
fn eager_and_compiled_agree_on_every_op_family() {
    // One small graph per family, gradients w.r.t. the inputs, eager vs plan.
    let mut rng = Rng::new(9);
    let cases: Vec<(Op, Vec<Vec<usize>>)> = vec![
        (Op::Tanh, vec![vec![3, 4]]),
        (Op::Mul, vec![vec![3, 4], vec![4]]),
        (Op::Matmul, vec![vec![2, 3, 4], vec![4, 2]]),
        (
            Op::Linear { bias: true },
            vec![vec![3, 4], vec![2, 4], vec![2]],
        ),
        (Op::Softmax { axis: -1 }, vec![vec![3, 4]]),
        (
            Op::LayerNorm {
                normalized_shape: vec![4],
                eps: 1e-5,
                affine: false,
            },
            vec![vec![3, 4]],
        ),
        (
            Op::Conv2d {
                params: Default::default(),
                bias: true,
            },
            vec![vec![1, 2, 5, 5], vec![3, 2, 3, 3], vec![3]],
        ),
        (
            Op::MaxPool2d {
                params: strata_tensor::MaxPool2dParams::new([2, 2]),
            },
            vec![vec![1, 2, 4, 4]],
        ),
        (
            Op::ReduceMax {
                axes: vec![1],
                keepdim: false,
            },
            vec![vec![3, 4]],
        ),
        (
            Op::Pad {
                pads: vec![[1, 2]],
                value: 0.5,
            },
            vec![vec![3, 4]],
        ),
    ];
    for (op, shapes) in cases {
        let xs: Vec<Tensor> = (shapes.iter())
            .map(|s| Tensor::randn(s.clone(), DType::F64, &mut rng).unwrap())
            .collect();
        let tape = Tape::tracing();
        let vars: Vec<Var> = xs.iter().map(|x| tape.input(x.clone(), true)).collect();
        let refs: Vec<&Var> = vars.iter().collect();
        let y = tape.apply(op.clone(), &refs).unwrap();
        let loss = y.square().unwrap().sum_all().unwrap();
        let eager = tape.backward(&loss).unwrap();
        let (graph, store) = tape.trace(&[&loss]).unwrap();
        let plan = Plan::compile(&graph, Wrt::Inputs, ExecConfig::default()).unwrap();
        let one = Tensor::ones([], DType::F64).unwrap();
        let run = plan.run(&store, &xs, &[one]).unwrap();
        for (k, v) in vars.iter().enumerate() {
            assert_eq!(
                run.gradients[&format!("input{k}")].to_vec::<f64>().unwrap(),
                eager.get(v).unwrap().to_vec::<f64>().unwrap(),
                "{} input {k}",
                op.tag()
            );
        }
    }
}

#[test]
fn shape_errors_name_the_op_and_the_shapes() {
    let tape = Tape::new();
    let a = tape.input(Tensor::zeros([2, 3], DType::F32).unwrap(), true);
    let b = tape.input(Tensor::zeros([4, 5], DType::F32).unwrap(), true);
    let err = a.matmul(&b).unwrap_err().to_string();
    assert!(
        err.contains("contracted") && err.contains("[2, 3]"),
        "{err}"
    );
}

#[test]
fn fused_elementwise_chains_give_the_unfused_bits() {
    // gelu(2·tanh(x) + 1) then exp, summed: a forward chain of five elementwise steps, and
    // backward chains through the derivative factors.
    let mut rng = Rng::new(21);
    let x = Tensor::randn([64, 33], DType::F32, &mut rng).unwrap();
    let tape = Tape::tracing();
    let v = tape.input(x.clone(), true);
    let y = v
        .tanh()
        .unwrap()
        .mul_scalar(2.0)
        .unwrap()
        .add_scalar(1.0)
        .unwrap()
        .gelu()
        .unwrap()
        .exp()
        .unwrap();
    let loss = y.sum_all().unwrap();
    let eager = tape.backward(&loss).unwrap();
    let (graph, store) = tape.trace(&[&loss]).unwrap();
    let plan = Plan::compile(&graph, Wrt::Inputs, ExecConfig::default()).unwrap();
    let (chains, ops) = plan.fused_chains();
    assert!(
        chains >= 1 && ops >= 5,
        "fused {chains} chains of {ops} ops"
    );
    let one = Tensor::ones([], DType::F32).unwrap();
    let run = plan.run(&store, &[x], &[one]).unwrap();
    assert_eq!(
        run.outputs[0].to_vec::<f32>().unwrap(),
        loss.value().to_vec::<f32>().unwrap()
    );
    assert_eq!(
        run.gradients["input0"].to_vec::<f32>().unwrap(),
        eager.get(&v).unwrap().to_vec::<f32>().unwrap()
    );
}
