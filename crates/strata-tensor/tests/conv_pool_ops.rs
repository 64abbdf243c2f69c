//! Tensor-level convolution and pooling: the wrappers around the slice kernels accept any
//! memory layout, produce the reference values, and reject bad shapes and dtypes by name.
//! (The kernels themselves are tested exhaustively in `src/kernels/{conv,pool}.rs`.)

mod common;

use common::*;
use strata_tensor::{
    AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams, DType, MaxPool2dParams,
    Tensor,
};

/// Direct-definition conv2d in f64: x [N,C,H,W], w [O,C/g,kh,kw].
fn naive_conv2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    b: &[f64],
    p: &Conv2dParams,
) -> (Vec<f64>, [usize; 4]) {
    let [n, _, h, wd] = xs;
    let [o, cg, kh, kw] = ws;
    let g = p.groups;
    let oh = (h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0] + 1;
    let ow = (wd + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1] + 1;
    let mut y = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            let group = oi / (o / g);
            for yi in 0..oh {
                for xi in 0..ow {
                    let mut acc = b[oi];
                    for ci in 0..cg {
                        let cin = group * cg + ci;
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let iy = (yi * p.stride[0] + ki * p.dilation[0]) as isize
                                    - p.padding[0] as isize;
                                let ix = (xi * p.stride[1] + kj * p.dilation[1]) as isize
                                    - p.padding[1] as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd {
                                    acc += x[ravel(&[ni, cin, iy as usize, ix as usize], &xs)]
                                        * w[ravel(&[oi, ci, ki, kj], &ws)];
                                }
                            }
                        }
                    }
                    y[ravel(&[ni, oi, yi, xi], &[n, o, oh, ow])] = acc;
                }
            }
        }
    }
    (y, [n, o, oh, ow])
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn conv2d_wrapper_matches_definition_on_every_layout() {
    let mut rng = SplitMix64::new(11);
    let (xs, ws) = ([2, 4, 7, 6], [6, 2, 3, 2]);
    let p = Conv2dParams {
        stride: [2, 1],
        padding: [1, 1],
        dilation: [1, 2],
        groups: 2,
    };
    let w_vals = rng.values(numel(&ws), -1.0, 1.0, DType::F64);
    let b_vals = rng.values(ws[0], -1.0, 1.0, DType::F64);
    let w = tensor(&w_vals, &ws, DType::F64);
    let b = tensor(&b_vals, &[ws[0]], DType::F64);
    for (name, x, x_vals) in inputs(&mut rng, &xs, DType::F64, -1.0, 1.0) {
        let (want, out_shape) = naive_conv2d(&x_vals, xs, &w_vals, ws, &b_vals, &p);
        let y = x.conv2d(&w, Some(&b), &p).unwrap();
        assert_eq!(y.dims(), out_shape, "{name}");
        assert_close(&f64s(&y), &want, |_| 1e-12, &name);
        // Backward through the wrapper: adjoint identities <gy, conv(x)> = <gx, x> (+ bias term)
        // and = <gw, w> + <gb, b>, on a random cotangent.
        let gy_vals = rng.values(numel(&out_shape), -1.0, 1.0, DType::F64);
        let gy = tensor(&gy_vals, &out_shape, DType::F64);
        let grads = x.conv2d_backward(&w, &gy, &p).unwrap();
        let (no_bias, _) = naive_conv2d(&x_vals, xs, &w_vals, ws, &vec![0.0; ws[0]], &p);
        let lhs = dot(&gy_vals, &no_bias);
        // The gradients alone are the ones of the full backward pass, and adjoint to conv.
        let input_grad = x.conv2d_backward_input(&w, &gy, &p).unwrap();
        let weight_grad = x.conv2d_backward_weight(&w, &gy, &p).unwrap();
        assert_eq!(input_grad.dims(), xs, "{name}");
        assert_eq!(weight_grad.dims(), ws, "{name}");
        assert_eq!(f64s(&input_grad), f64s(&grads.input), "{name}");
        assert_eq!(f64s(&weight_grad), f64s(&grads.weight), "{name}");
        assert!(
            (lhs - dot(&f64s(&input_grad), &x_vals)).abs() < 1e-10,
            "{name}: input adjoint"
        );
        assert!(
            (lhs - dot(&f64s(&weight_grad), &w_vals)).abs() < 1e-10,
            "{name}: weight adjoint"
        );
        let bias_part = dot(&gy_vals, &want) - lhs;
        assert!(
            (bias_part - dot(&f64s(&grads.bias), &b_vals)).abs() < 1e-10,
            "{name}: bias adjoint"
        );
    }
}

/// `<gy, f(x, w)> = <gx, x> = <gw, w>` for a bias-free convolution `f`, linear in each operand.
fn assert_adjoint(y: &Tensor, gy: &Tensor, x: &Tensor, gx: &Tensor, w: &Tensor, gw: &Tensor) {
    assert_eq!((gx.dims(), gw.dims()), (x.dims(), w.dims()));
    let lhs = dot(&f64s(gy), &f64s(y));
    assert!(
        (lhs - dot(&f64s(gx), &f64s(x))).abs() < 1e-10,
        "input adjoint"
    );
    assert!(
        (lhs - dot(&f64s(gw), &f64s(w))).abs() < 1e-10,
        "weight adjoint"
    );
}

#[test]
fn conv1d_and_transposed_gradients_alone_are_adjoint() {
    let mut rng = SplitMix64::new(13);
    let mut random = |dims: &[usize]| {
        let values = rng.values(numel(dims), -1.0, 1.0, DType::F64);
        tensor(&values, dims, DType::F64)
    };
    let p1 = Conv1dParams {
        stride: 2,
        padding: 1,
        dilation: 1,
        groups: 2,
    };
    let (x, w) = (random(&[2, 4, 9]), random(&[6, 2, 3]));
    let y = x.conv1d(&w, None, &p1).unwrap();
    let gy = random(y.dims());
    let gx = x.conv1d_backward_input(&w, &gy, &p1).unwrap();
    let gw = x.conv1d_backward_weight(&w, &gy, &p1).unwrap();
    assert_adjoint(&y, &gy, &x, &gx, &w, &gw);

    let pt = ConvTranspose2dParams {
        stride: [2, 1],
        padding: [1, 0],
        output_padding: [1, 0],
        ..Default::default()
    };
    let (x, w) = (random(&[2, 3, 4, 5]), random(&[3, 2, 3, 2]));
    let y = x.conv_transpose2d(&w, None, &pt).unwrap();
    let gy = random(y.dims());
    let gx = x.conv_transpose2d_backward_input(&w, &gy, &pt).unwrap();
    let gw = x.conv_transpose2d_backward_weight(&w, &gy, &pt).unwrap();
    assert_adjoint(&y, &gy, &x, &gx, &w, &gw);
}

#[test]
fn pooling_wrappers_match_definition() {
    let mut rng = SplitMix64::new(12);
    let xs = [2, 3, 5, 6];
    let mp = MaxPool2dParams::new([2, 3]);
    let ap = AvgPool2dParams::new([2, 2]);
    for (name, x, v) in inputs(&mut rng, &xs, DType::F32, -4.0, 4.0) {
        let (y, idx) = x.max_pool2d_with_indices(&mp).unwrap();
        let (oh, ow) = (2, 2);
        assert_eq!(y.dims(), [2, 3, oh, ow], "{name}");
        let mut want = Vec::new();
        let mut want_idx = Vec::new();
        for plane in 0..6 {
            for i in 0..oh {
                for j in 0..ow {
                    let taps =
                        (0..2).flat_map(|a| (0..3).map(move |b| (2 * i + a) * 6 + 3 * j + b));
                    let best = taps.fold(None::<usize>, |m, t| match m {
                        Some(m) if v[plane * 30 + m] >= v[plane * 30 + t] => Some(m),
                        _ => Some(t),
                    });
                    want.push(v[plane * 30 + best.unwrap()]);
                    want_idx.push(best.unwrap() as i64);
                }
            }
        }
        assert_eq!(y.to_vec_f64(), want, "{name}: max values");
        assert_eq!(
            x.max_pool2d(&mp).unwrap().to_vec_f64(),
            want,
            "{name}: values only"
        );
        assert_eq!(idx.to_vec::<i64>().unwrap(), want_idx, "{name}: argmax");
        // The backward scatters each cotangent to its argmax.
        let gy = Tensor::ones(y.shape().clone(), DType::F32).unwrap();
        let gx = Tensor::max_pool2d_backward(&gy, &idx, x.dims()).unwrap();
        let mut counts = vec![0.0; numel(&xs)];
        for (k, &i) in want_idx.iter().enumerate() {
            counts[(k / (oh * ow)) * 30 + i as usize] += 1.0;
        }
        assert_eq!(gx.to_vec_f64(), counts, "{name}: max backward");
        let from_input = x.max_pool2d_input_grad(&gy, &mp).unwrap();
        assert_eq!(
            from_input.to_vec_f64(),
            counts,
            "{name}: max backward from the input"
        );

        let a = x.avg_pool2d(&ap).unwrap();
        assert_eq!(a.dims(), [2, 3, 2, 3]);
        let avg: Vec<f64> = (0..6)
            .flat_map(|pl| (0..2).flat_map(move |i| (0..3).map(move |j| (pl, i, j))))
            .map(|(pl, i, j)| {
                (0..2)
                    .flat_map(|a| (0..2).map(move |b| (a, b)))
                    .map(|(a, b)| v[pl * 30 + (2 * i + a) * 6 + 2 * j + b])
                    .sum::<f64>()
                    / 4.0
            })
            .collect();
        assert_close(
            &a.to_vec_f64(),
            &avg,
            |k| 4.0 * U32 * avg[k].abs().max(1.0),
            &name,
        );
        let ga = Tensor::avg_pool2d_backward(
            &Tensor::ones([2, 3, 2, 3], DType::F32).unwrap(),
            x.dims(),
            &ap,
        )
        .unwrap();
        // Rows 0..4 and columns 0..6 are covered once (weight 1/4); row 4 is never covered.
        let want_ga: Vec<f64> = (0..numel(&xs))
            .map(|k| if (k % 30) / 6 < 4 { 0.25 } else { 0.0 })
            .collect();
        assert_eq!(ga.to_vec_f64(), want_ga, "{name}: avg backward");

        let g = x.adaptive_avg_pool2d([1, 1]).unwrap();
        let means: Vec<f64> = (0..6)
            .map(|pl| v[pl * 30..(pl + 1) * 30].iter().sum::<f64>() / 30.0)
            .collect();
        assert_close(
            &g.to_vec_f64(),
            &means,
            |k| 30.0 * U32 * means[k].abs().max(4.0),
            &name,
        );
    }
}

#[test]
fn conv_and_pool_errors_name_the_operation() {
    let x = Tensor::zeros([1, 2, 5, 5], DType::F32).unwrap();
    let w = Tensor::zeros([3, 3, 3, 3], DType::F32).unwrap();
    let e = x
        .conv2d(&w, None, &Conv2dParams::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("conv2d"), "{e}");
    let e = x
        .reshape([2, 5, 5])
        .unwrap()
        .conv2d(&w, None, &Conv2dParams::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("conv2d") && e.contains("[2, 5, 5]"), "{e}");
    let w64 = Tensor::zeros([3, 2, 3, 3], DType::F64).unwrap();
    let e = x
        .conv2d(&w64, None, &Conv2dParams::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("conv2d") && e.contains("f32") && e.contains("f64"),
        "{e}"
    );
    let e = x
        .max_pool2d(&MaxPool2dParams::new([7, 7]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_pool2d"), "{e}");
    let bad = Tensor::zeros([1, 2, 2, 2], DType::F32).unwrap();
    let idx = Tensor::zeros([1, 2, 3, 3], DType::I64).unwrap();
    let e = Tensor::max_pool2d_backward(&bad, &idx, &[1, 2, 5, 5])
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_pool2d_backward"), "{e}");
}
