//! Time per op tag of one compiled training step (temporary profiling aid).
use std::collections::BTreeMap;
use std::time::Instant;
use strata_autograd::{Plan, Tape, Wrt};
use strata_ir::eval::ExecConfig;
use strata_ir::{Op, Reduction};
use strata_nn::modules::{Forward, Model};
use strata_tensor::{DType, Rng, Tensor};

fn main() {
    let name = std::env::args().nth(1).unwrap_or("cnn".into());
    let net = strata_nn::zoo::lookup(&name).unwrap().build();
    let model = Model::from_boxed(net, DType::F32, &mut Rng::new(0)).unwrap();
    let mut rng = Rng::new(1);
    let x = Tensor::randn([64, 1, 28, 28], DType::F32, &mut rng).unwrap();
    let y = Tensor::from_vec((0..64).map(|i| i % 10).collect::<Vec<i64>>(), [64]).unwrap();
    let tape = Tape::tracing();
    let xv = tape.input(x.clone(), false);
    let yv = tape.input(y.clone(), false);
    let fwd = Forward::train(&tape, &model.params, &model.buffers, 0, 0);
    let logits = fwd.run(&*model.module, &xv).unwrap();
    let loss = logits.cross_entropy(&yv, Reduction::Mean).unwrap();
    let (graph, _) = tape.trace(&[&loss]).unwrap();
    let plan = Plan::compile(&graph, Wrt::Params, ExecConfig::default()).unwrap();
    let cfg = ExecConfig::default();
    let one = Tensor::ones([], DType::F32).unwrap();
    let mut times: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let reps = 10;
    let t_all = Instant::now();
    for _ in 0..reps {
        plan.run(&model.params, &[x.clone(), y.clone()], std::slice::from_ref(&one)).unwrap();
    }
    println!("plan.run: {:.2} ms/step", t_all.elapsed().as_secs_f64() * 1e3 / reps as f64);
    for _ in 0..reps {
        let mut vals: Vec<Option<Tensor>> = vec![None; plan.graph.nodes.len()];
        let mut feeds = vec![x.clone(), y.clone(), one.clone()].into_iter();
        for node in &plan.graph.nodes {
            let v = match &node.op {
                Op::Input { .. } => feeds.next().unwrap(),
                Op::Parameter { name, .. } => model.params[name].clone(),
                op => {
                    let args: Vec<Tensor> = node.inputs.iter().map(|&i| vals[i].clone().unwrap()).collect();
                    let t0 = Instant::now();
                    let out = op.forward(&args, &cfg).unwrap();
                    let key = match op {
                        Op::Vjp { of, input } => format!("vjp({}, {input}) {:?}", of.tag(), node.shape.dims()),
                        _ => format!("{} {:?}", op.tag(), node.shape.dims()),
                    };
                    let e = times.entry(key).or_default();
                    e.0 += t0.elapsed().as_secs_f64();
                    e.1 += 1;
                    out
                }
            };
            vals[node.id] = Some(v);
        }
    }
    let mut v: Vec<_> = times.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.partial_cmp(&a.1 .0).unwrap());
    let total: f64 = v.iter().map(|x| x.1 .0).sum();
    println!("all nodes: {:.2} ms/step", total * 1e3 / reps as f64);
    for (k, (t, n)) in v.iter().take(25) {
        println!("{:8.3} ms  x{:3}  {k}", t * 1e3 / reps as f64, n / reps);
    }
}
