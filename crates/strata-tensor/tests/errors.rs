//! Every public operation, given mismatched shapes or dtypes, out-of-range axes or indices, or
//! bad arguments, returns `Err` (never panics) and the message names the operation and the
//! shapes (or dtypes, axes, indices) involved.

use strata_tensor::init::{self, FanMode, Nonlinearity};
use strata_tensor::{CmpOp, DType, MatmulKernel, ReduceOp, ReduceOrder, Rng, Shape, Tensor};

fn t(dims: &[usize]) -> Tensor {
    Tensor::zeros(dims.to_vec(), DType::F32).unwrap()
}
fn t64(dims: &[usize]) -> Tensor {
    Tensor::zeros(dims.to_vec(), DType::F64).unwrap()
}
fn idx(v: &[i64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
}

/// Asserts that `r` is an error whose message contains every one of `parts`.
#[track_caller]
fn err<T: std::fmt::Debug>(r: strata_tensor::Result<T>, parts: &[&str]) {
    let e = r.expect_err("an error").to_string();
    for p in parts {
        assert!(e.contains(p), "error message {e:?} does not mention {p:?}");
    }
}

#[test]
fn construction_errors() {
    err(
        Tensor::from_vec(vec![1.0f32; 5], [2, 3]),
        &["from_vec", "[2, 3]", "5 elements"],
    );
    err(
        Tensor::from_slice(&[1i64, 2], [3]),
        &["from_vec", "[3]", "2 elements"],
    );
    // Element counts that overflow usize are errors, not allocations or panics.
    let huge = [usize::MAX, 2];
    err(
        Tensor::full(huge, 0.0, DType::F32),
        &["full", "[18446744073709551615, 2]", "overflow"],
    );
    err(
        Tensor::zeros([1usize << 32, 1 << 32, 1 << 32], DType::F64),
        &["full", "overflow"],
    );
    err(Tensor::ones(huge, DType::Bool), &["full"]);
    // …and so are counts that fit usize but not the address space in bytes.
    err(
        Tensor::full([usize::MAX / 2], 1.0, DType::F32),
        &["full", "[9223372036854775807]"],
    );
    err(Tensor::zeros([1usize << 61], DType::F64), &["full"]);
    err(Tensor::eye(1 << 33, DType::F32), &["eye"]);
    err(Tensor::eye(1 << 31, DType::F64), &["eye"]);
    err(Tensor::eye(usize::MAX, DType::F32), &["eye"]);
    err(
        Tensor::arange(0.0, 1.0, 0.0, DType::F32),
        &["arange", "step 0"],
    );
    err(Tensor::arange(0.0, f64::NAN, 1.0, DType::F32), &["arange"]);
    err(
        Tensor::arange(0.0, 1e300, 1.0, DType::F32),
        &["arange", "too many"],
    );
    // Accessors.
    err(t(&[2, 3]).item::<f32>(), &["item", "[2, 3]"]);
    err(t(&[0]).item::<f32>(), &["item", "[0]"]);
    err(t(&[1]).item::<f64>(), &["item", "f32", "f64"]);
    err(t(&[2]).to_vec::<i64>(), &["f32", "i64"]);
    err(t(&[2]).data::<bool>(), &["f32", "bool"]);
    err(t(&[2, 3]).dim(2), &["dimension 2", "rank 2"]);
    err(t(&[2, 3]).dim(-3), &["dimension -3", "rank 2"]);
}

#[test]
fn random_and_init_errors() {
    let mut rng = Rng::new(0);
    err(
        Tensor::rand([2], DType::I64, &mut rng),
        &["rand_uniform", "i64"],
    );
    err(
        Tensor::rand_uniform([2], 1.0, 0.0, DType::F32, &mut rng),
        &["rand_uniform", "[1, 0)"],
    );
    err(
        Tensor::rand_uniform([2], 0.0, f64::INFINITY, DType::F64, &mut rng),
        &["rand_uniform"],
    );
    err(
        Tensor::randn([2], DType::Bool, &mut rng),
        &["randn", "bool"],
    );
    err(
        Tensor::randn_with([2], 0.0, -1.0, DType::F32, &mut rng),
        &["randn", "std -1"],
    );
    err(
        Tensor::randn_with([2], f64::NAN, 1.0, DType::F32, &mut rng),
        &["randn"],
    );
    err(Tensor::bernoulli([2], 1.5, &mut rng), &["bernoulli", "1.5"]);
    err(Tensor::bernoulli([2], f64::NAN, &mut rng), &["bernoulli"]);
    err(
        Tensor::rand([usize::MAX, 3], DType::F32, &mut rng),
        &["rand_uniform", "overflow"],
    );
    err(
        Tensor::randn([usize::MAX / 4], DType::F64, &mut rng),
        &["randn"],
    );
    err(
        Tensor::bernoulli([usize::MAX, usize::MAX], 0.5, &mut rng),
        &["bernoulli"],
    );
    // A failed fill does not advance the stream.
    assert_eq!(rng.position(), 0);
    err(
        init::kaiming_uniform(
            [3],
            FanMode::FanIn,
            Nonlinearity::Relu,
            DType::F32,
            &mut rng,
        ),
        &["init", "[3]"],
    );
    err(
        init::kaiming_normal(
            [4, 0, 3],
            FanMode::FanIn,
            Nonlinearity::Tanh,
            DType::F32,
            &mut rng,
        ),
        &["init", "[4, 0, 3]"],
    );
    err(
        init::xavier_normal([], 1.0, DType::F32, &mut rng),
        &["init", "[]"],
    );
    err(
        init::torch_default_bias(&Shape::from([5]), DType::F32, &mut rng),
        &["init"],
    );
    err(
        init::torch_default_weight([7], DType::F64, &mut rng),
        &["init"],
    );
}

#[test]
fn view_errors() {
    let x = t(&[2, 3]);
    err(x.reshape([4]), &["reshape", "[2, 3]", "[4]"]);
    err(x.reshape([usize::MAX, 2]), &["reshape", "[2, 3]"]);
    err(
        x.reshape_infer(&[-1, -1]),
        &["reshape", "[2, 3]", "[-1, -1]"],
    );
    err(x.reshape_infer(&[-2, 3]), &["reshape", "[2, 3]"]);
    err(x.reshape_infer(&[4, -1]), &["reshape", "[2, 3]", "[4, -1]"]);
    err(t(&[0, 3]).reshape_infer(&[0, -1]), &["reshape", "[0, 3]"]);
    err(x.permute(&[0]), &["permute", "[0]", "[2, 3]"]);
    err(x.permute(&[1, 1]), &["permute", "[1, 1]", "[2, 3]"]);
    err(x.permute(&[0, 2]), &["permute", "[0, 2]", "[2, 3]"]);
    err(x.transpose(0, 2), &["transpose", "dimension 2", "rank 2"]);
    err(x.transpose(-3, 0), &["transpose", "dimension -3"]);
    err(t(&[2, 3, 4]).t(), &["t", "[2, 3, 4]", "rank-2"]);
    err(Tensor::scalar(1.0f32).t(), &["t", "[]"]);
    err(x.narrow(1, 2, 2), &["narrow", "[2, 3]"]);
    err(x.narrow(1, usize::MAX, 2), &["narrow", "[2, 3]"]);
    err(x.narrow(2, 0, 1), &["narrow", "dimension 2", "rank 2"]);
    err(x.slice(1, 0, 3, 0), &["slice", "step 0", "[2, 3]"]);
    err(x.slice(0, 3, 5, 1), &["slice", "[2, 3]"]);
    err(x.slice(-3, 0, 1, 1), &["slice", "dimension -3"]);
    err(
        x.broadcast_to([3, 3]),
        &["broadcast_to", "[2, 3]", "[3, 3]"],
    );
    err(x.broadcast_to([3]), &["broadcast_to", "[2, 3]", "[3]"]);
    err(
        x.expand([4, 2, 4]),
        &["broadcast_to", "[2, 3]", "[4, 2, 4]"],
    );
    // A broadcast whose element count overflows is refused up front.
    err(
        Tensor::scalar(1.0f32).broadcast_to([1usize << 40, 1 << 40]),
        &["broadcast_to", "[1099511627776, 1099511627776]"],
    );
    err(x.squeeze(1), &["squeeze", "[2, 3]", "axis 1 has size 3"]);
    err(x.squeeze(5), &["squeeze", "dimension 5"]);
    err(x.unsqueeze(3), &["unsqueeze", "dimension 3", "rank 3"]);
    err(x.unsqueeze(-4), &["unsqueeze", "dimension -4"]);
    err(x.flatten(1, 0), &["flatten", "start axis 1", "end axis 0"]);
    err(x.flatten(0, 2), &["flatten", "dimension 2"]);
}

#[test]
fn join_errors() {
    let (a, b) = (t(&[2, 3]), t(&[2, 4]));
    err(Tensor::cat(&[], 0), &["cat", "at least one"]);
    err(Tensor::cat(&[&a, &b], 0), &["cat", "[2, 3]", "[2, 4]"]);
    err(
        Tensor::cat(&[&a, &t(&[2, 3, 1])], 0),
        &["cat", "[2, 3]", "[2, 3, 1]"],
    );
    err(Tensor::cat(&[&a, &t64(&[2, 3])], 0), &["cat", "f32", "f64"]);
    err(Tensor::cat(&[&a, &a], 2), &["cat", "dimension 2", "rank 2"]);
    err(
        Tensor::cat(&[&Tensor::scalar(1.0f32)], 0),
        &["cat", "dimension 0", "rank 0"],
    );
    err(Tensor::stack(&[], 0), &["stack", "at least one"]);
    err(Tensor::stack(&[&a, &b], 0), &["stack", "[2, 3]", "[2, 4]"]);
    err(
        Tensor::stack(&[&a, &t64(&[2, 3])], 1),
        &["stack", "f32", "f64"],
    );
    err(
        Tensor::stack(&[&a, &a], 3),
        &["stack", "dimension 3", "rank 3"],
    );
    err(a.split(0, 1), &["split", "positive"]);
    err(a.split(1, 2), &["split", "dimension 2"]);
    err(a.split_sizes(&[1, 1], 1), &["split", "[1, 1]", "[2, 3]"]);
    err(a.split_sizes(&[2, 2], 1), &["split", "[2, 2]", "[2, 3]"]);
    err(a.split_sizes(&[3], -3), &["split", "dimension -3"]);
    err(a.chunk(0, 0), &["chunk", "positive"]);
    err(a.chunk(2, 2), &["chunk", "dimension 2"]);
}

#[test]
fn index_errors() {
    let x = t(&[3, 4]);
    err(x.index_select(0, &t(&[2])), &["index_select", "f32", "i64"]);
    err(
        x.index_select(0, &Tensor::from_vec(vec![0i64; 4], [2, 2]).unwrap()),
        &["index_select", "[2, 2]", "1-D"],
    );
    err(
        x.index_select(0, &idx(&[0, 3])),
        &["index_select", "index 3", "size 3"],
    );
    err(
        x.index_select(1, &idx(&[-5])),
        &["index_select", "index -5", "size 4"],
    );
    err(
        x.index_select(2, &idx(&[0])),
        &["index_select", "dimension 2"],
    );
    err(
        t(&[0, 2]).index_select(0, &idx(&[0])),
        &["index_select", "index 0", "size 0"],
    );
    let i2 = |v: &[i64], d: [usize; 2]| Tensor::from_vec(v.to_vec(), d).unwrap();
    err(x.gather(0, &idx(&[0])), &["gather", "[3, 4]", "[1]"]);
    err(
        x.gather(0, &i2(&[0; 5], [1, 5])),
        &["gather", "[3, 4]", "[1, 5]"],
    );
    err(
        x.gather(1, &i2(&[0, 4], [2, 1])),
        &["gather", "index 4", "size 4"],
    );
    err(x.gather(1, &i2(&[0, -5], [2, 1])), &["gather", "index -5"]);
    err(
        x.gather(0, &Tensor::zeros([1, 1], DType::F64).unwrap()),
        &["gather", "f64", "i64"],
    );
    err(x.gather(-3, &i2(&[0], [1, 1])), &["gather", "dimension -3"]);
    let src = t(&[2, 2]);
    err(
        x.scatter_add(0, &i2(&[0; 6], [2, 3]), &src),
        &["scatter_add", "[2, 2]", "[2, 3]"],
    );
    // Along `dim` the index may be longer than self (PyTorch), but not on the other axes.
    assert!(x.scatter_add(1, &i2(&[0; 5], [1, 5]), &t(&[1, 5])).is_ok());
    err(
        x.scatter_add(1, &i2(&[0; 4], [4, 1]), &t(&[4, 1])),
        &["scatter_add", "[3, 4]", "[4, 1]"],
    );
    err(
        x.scatter_add(0, &i2(&[0, 0], [1, 2]), &t64(&[1, 2])),
        &["scatter_add", "f32", "f64"],
    );
    err(
        x.scatter_add(0, &i2(&[3, 0], [1, 2]), &src),
        &["scatter_add", "index 3", "size 3"],
    );
    err(
        x.scatter_add(0, &idx(&[0]), &src),
        &["scatter_add", "[3, 4]", "[1]"],
    );
    let xi = Tensor::zeros([3, 4], DType::I64).unwrap();
    err(
        xi.scatter_add(
            0,
            &i2(&[0], [1, 1]),
            &Tensor::zeros([1, 1], DType::I64).unwrap(),
        ),
        &["scatter_add", "i64"],
    );
    err(x.pad(&[(1, 1); 3], 0.0), &["pad", "3 pad pairs", "rank-2"]);
    err(x.pad(&[(usize::MAX, 1)], 0.0), &["pad", "overflow"]);
    err(
        x.pad(&[(usize::MAX / 2, 0), (usize::MAX / 2, 0)], 0.0),
        &["pad"],
    );
}

#[test]
fn elementwise_errors() {
    let (a, b) = (t(&[2, 3]), t(&[4]));
    type Bin = fn(&Tensor, &Tensor) -> strata_tensor::Result<Tensor>;
    let ops: [(&str, Bin); 7] = [
        ("add", |x, y| x.add(y)),
        ("sub", |x, y| x.sub(y)),
        ("mul", |x, y| x.mul(y)),
        ("div", |x, y| x.div(y)),
        ("pow", |x, y| x.pow(y)),
        ("maximum", |x, y| x.maximum(y)),
        ("minimum", |x, y| x.minimum(y)),
    ];
    for (name, f) in ops {
        err(f(&a, &b), &[name, "shape mismatch", "[2, 3]", "[4]"]);
        err(
            f(&a, &t64(&[2, 3])),
            &[name, "dtype mismatch", "f32", "f64"],
        );
        let i = Tensor::zeros([2], DType::I64).unwrap();
        err(f(&i, &i), &[name, "i64", "f32 or f64"]);
    }
    let i = Tensor::zeros([2], DType::Bool).unwrap();
    type Un = fn(&Tensor) -> strata_tensor::Result<Tensor>;
    let unary: [(&str, Un); 7] = [
        ("exp", |x| x.exp()),
        ("neg", |x| x.neg()),
        ("gelu", |x| x.gelu()),
        ("relu", |x| x.relu()),
        ("clamp", |x| x.clamp(0.0, 1.0)),
        ("leaky_relu", |x| x.leaky_relu(0.1)),
        ("add", |x| x.add_scalar(1.0)),
    ];
    for (name, f) in unary {
        err(f(&i), &[name, "bool"]);
    }
    err(a.compare(&b, CmpOp::Lt), &["lt", "[2, 3]", "[4]"]);
    err(a.eq(&t64(&[2, 3])), &["eq", "f32", "f64"]);
    let cond = Tensor::zeros([2, 3], DType::Bool).unwrap();
    err(Tensor::where_cond(&a, &a, &a), &["where", "f32", "bool"]);
    err(
        Tensor::where_cond(&cond, &a, &b),
        &["where", "[2, 3]", "[4]"],
    );
    err(
        Tensor::where_cond(&Tensor::zeros([5], DType::Bool).unwrap(), &a, &a),
        &["where", "[5]", "[2, 3]"],
    );
    err(
        Tensor::where_cond(&cond, &a, &t64(&[2, 3])),
        &["where", "f32", "f64"],
    );
}

#[test]
fn broadcast_overflow_is_an_error() {
    // [2^40, 1] + [1, 2^40] would have 2^80 elements.
    let tall = Tensor::scalar(1.0f32)
        .broadcast_to([1usize << 40, 1])
        .unwrap();
    let wide = Tensor::scalar(1.0f32).broadcast_to([1usize << 40]).unwrap();
    err(
        tall.add(&wide),
        &["add", "[1099511627776, 1]", "[1099511627776]"],
    );
    err(
        tall.matmul(
            &Tensor::scalar(1.0f32)
                .broadcast_to([1usize << 40, 1, 1])
                .unwrap(),
        ),
        &["matmul"],
    );
}

#[test]
fn reduction_errors() {
    let x = t(&[2, 3]);
    for op in [
        ReduceOp::Sum,
        ReduceOp::Mean,
        ReduceOp::Max,
        ReduceOp::Var { correction: 1 },
        ReduceOp::LogSumExp,
    ] {
        err(
            x.reduce(op, &[2], false, ReduceOrder::Sequential),
            &["dimension 2", "rank 2"],
        );
        err(
            x.reduce(op, &[0, -3], true, ReduceOrder::default()),
            &["dimension -3", "rank 2"],
        );
        err(
            Tensor::zeros([2], DType::I64)
                .unwrap()
                .reduce(op, &[], false, ReduceOrder::default()),
            &["i64", "f32 or f64"],
        );
    }
    err(x.sum(&[5], false), &["sum", "dimension 5"]);
    err(x.logsumexp(&[-3], false), &["logsumexp", "dimension -3"]);
    err(t(&[3, 0]).max(&[1], false), &["max", "[3, 0]", "empty"]);
    err(t(&[0]).min(&[], false), &["min", "[0]", "empty"]);
    err(x.argmax(2, false), &["argmax", "dimension 2"]);
    err(t(&[3, 0]).argmin(1, true), &["argmin", "[3, 0]", "empty"]);
    err(
        Tensor::zeros([3], DType::Bool).unwrap().argmax(0, false),
        &["argmax", "bool"],
    );
}

#[test]
fn matmul_errors() {
    for kernel in [
        MatmulKernel::Fast,
        MatmulKernel::Reference(ReduceOrder::Sequential),
    ] {
        let mm = |a: &Tensor, b: &Tensor| a.matmul_with(b, kernel);
        err(
            mm(&t(&[2, 3]), &t(&[4, 5])),
            &["matmul", "[2, 3]", "[4, 5]"],
        );
        err(mm(&t(&[3]), &t(&[4])), &["matmul", "[3]", "[4]"]);
        err(mm(&t(&[2, 3]), &t(&[2])), &["matmul", "[2, 3]", "[2]"]);
        err(
            mm(&Tensor::scalar(1.0f32), &t(&[1])),
            &["matmul", "[]", "[1]"],
        );
        err(
            mm(&t(&[2, 3, 4]), &t(&[3, 4, 5])),
            &["matmul", "[2, 3, 4]", "[3, 4, 5]"],
        );
        err(mm(&t(&[2, 3]), &t64(&[3, 2])), &["matmul", "f32", "f64"]);
        let i = Tensor::zeros([2, 2], DType::I64).unwrap();
        err(mm(&i, &i), &["matmul", "i64"]);
    }
}

#[test]
fn nn_errors() {
    let x = t(&[2, 3]);
    err(x.softmax(2), &["softmax", "dimension 2"]);
    err(x.log_softmax(-3), &["log_softmax", "dimension -3"]);
    err(
        Tensor::zeros([2], DType::I64).unwrap().softmax(0),
        &["softmax", "i64"],
    );
    err(
        Tensor::scalar(1.0f32).softmax(0),
        &["softmax", "dimension 0", "rank 0"],
    );
    err(
        x.layer_norm(&[2], None, None, 1e-5),
        &["layer_norm", "[2, 3]", "[2]"],
    );
    err(
        x.layer_norm(&[2, 2, 3], None, None, 1e-5),
        &["layer_norm", "[2, 3]", "[2, 2, 3]"],
    );
    err(
        x.layer_norm(&[3], Some(&t(&[2])), None, 1e-5),
        &["layer_norm", "[3]", "[2]"],
    );
    err(
        x.layer_norm(&[3], None, Some(&t(&[3, 1])), 1e-5),
        &["layer_norm", "[3]", "[3, 1]"],
    );
    err(
        x.layer_norm(&[3], Some(&t64(&[3])), None, 1e-5),
        &["layer_norm", "f32", "f64"],
    );
    let (rm, rv) = (t(&[3]), Tensor::ones([3], DType::F32).unwrap());
    err(
        t(&[4]).batch_norm(&rm, &rv, None, None, true, 0.1, 1e-5),
        &["batch_norm", "[4]", "[N, C, *]"],
    );
    err(
        x.batch_norm(&t(&[2]), &rv, None, None, true, 0.1, 1e-5),
        &["batch_norm", "[3]", "[2]"],
    );
    err(
        x.batch_norm(&rm, &t(&[3, 1]), None, None, false, 0.1, 1e-5),
        &["batch_norm", "[3]", "[3, 1]"],
    );
    err(
        x.batch_norm(&rm, &rv, Some(&t(&[4])), None, false, 0.1, 1e-5),
        &["batch_norm", "[3]", "[4]"],
    );
    err(
        x.batch_norm(&rm, &rv, None, Some(&t(&[1])), true, 0.1, 1e-5),
        &["batch_norm", "[3]", "[1]"],
    );
    err(
        t(&[1, 3]).batch_norm(&rm, &rv, None, None, true, 0.1, 1e-5),
        &["batch_norm", "[1, 3]", "more than one value"],
    );
    err(
        x.batch_norm(&t64(&[3]), &rv, None, None, true, 0.1, 1e-5),
        &["batch_norm", "f32", "f64"],
    );
    err(
        x.batch_norm(&rm, &rv, Some(&t64(&[3])), None, false, 0.1, 1e-5),
        &["batch_norm", "f32", "f64"],
    );
    let table = t(&[5, 4]);
    err(t(&[5]).embedding(&idx(&[0])), &["embedding", "[5]"]);
    err(
        table.embedding(&idx(&[0, 5])),
        &["embedding", "index 5", "size 5"],
    );
    err(table.embedding(&t(&[2])), &["embedding", "f32", "i64"]);
}
