//! Property tests (proptest) of broadcasting and views against an explicit index-mapping
//! model: a row-major array of f64 with a shape, where every view op is written as a gather
//! over output indices.

mod common;

use common::{numel, ravel, unravel};
use proptest::prelude::*;
use strata_tensor::{broadcast_shapes, DType, Shape, Tensor};

/// The test-side model of a tensor: its shape and logical values in row-major order.
#[derive(Clone, Debug, PartialEq)]
struct Nd {
    dims: Vec<usize>,
    vals: Vec<f64>,
}

impl Nd {
    fn iota(dims: &[usize]) -> Nd {
        Nd {
            dims: dims.to_vec(),
            vals: (0..numel(dims)).map(|i| i as f64).collect(),
        }
    }
    /// out[idx] = self[f(idx)] for every output index.
    fn gather(&self, dims: Vec<usize>, f: impl Fn(&[usize]) -> Vec<usize>) -> Nd {
        let vals = (0..numel(&dims))
            .map(|lin| self.vals[ravel(&f(&unravel(lin, &dims)), &self.dims)])
            .collect();
        Nd { dims, vals }
    }
    fn permute(&self, perm: &[usize]) -> Nd {
        let dims = perm.iter().map(|&p| self.dims[p]).collect();
        self.gather(dims, |idx| {
            let mut src = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                src[p] = idx[i];
            }
            src
        })
    }
    fn slice(&self, axis: usize, start: usize, end: usize, step: usize) -> Nd {
        let end = end.min(self.dims[axis]);
        let mut dims = self.dims.clone();
        dims[axis] = (start..end).step_by(step).count();
        self.gather(dims, |idx| {
            let mut s = idx.to_vec();
            s[axis] = start + idx[axis] * step;
            s
        })
    }
    fn unsqueeze(&self, axis: usize) -> Nd {
        let mut dims = self.dims.clone();
        dims.insert(axis, 1);
        self.gather(dims, |idx| {
            let mut s = idx.to_vec();
            s.remove(axis);
            s
        })
    }
    fn broadcast_to(&self, target: &[usize]) -> Nd {
        let lead = target.len() - self.dims.len();
        self.gather(target.to_vec(), |idx| {
            (0..self.dims.len())
                .map(|a| if self.dims[a] == 1 { 0 } else { idx[a + lead] })
                .collect()
        })
    }
    fn to_tensor(&self) -> Tensor {
        Tensor::from_vec(self.vals.clone(), self.dims.clone()).unwrap()
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn assert_matches(t: &Tensor, model: &Nd) -> Result<(), TestCaseError> {
    prop_assert_eq!(t.dims(), model.dims.as_slice());
    prop_assert_eq!(values(t), model.vals.clone());
    Ok(())
}

/// The crate's contiguity, from its definition: row-major without gaps (size-1 axes may
/// have any stride).
fn row_major_without_gaps(dims: &[usize], strides: &[usize]) -> bool {
    let mut expected = 1;
    for (&d, &s) in dims.iter().zip(strides).rev() {
        if d != 1 && s != expected {
            return false;
        }
        expected *= d;
    }
    true
}

fn dims_strategy(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=max_dim, 0..=max_rank)
}

/// A view op applied to both the tensor and the model.
#[derive(Clone, Debug)]
enum ViewOp {
    Permute(u64),
    Slice {
        axis: u64,
        start: u64,
        len: u64,
        step: usize,
    },
    Unsqueeze(u64),
    Expand {
        axis: u64,
        size: usize,
    },
    Transpose(u64, u64),
}

fn view_op() -> impl Strategy<Value = ViewOp> {
    prop_oneof![
        any::<u64>().prop_map(ViewOp::Permute),
        (any::<u64>(), any::<u64>(), any::<u64>(), 1usize..=3).prop_map(
            |(axis, start, len, step)| ViewOp::Slice {
                axis,
                start,
                len,
                step
            }
        ),
        any::<u64>().prop_map(ViewOp::Unsqueeze),
        (any::<u64>(), 1usize..=3).prop_map(|(axis, size)| ViewOp::Expand { axis, size }),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| ViewOp::Transpose(a, b)),
    ]
}

/// Applies `op` (its random numbers reduced to valid arguments) to tensor and model.
fn apply(op: &ViewOp, t: &Tensor, m: &Nd) -> (Tensor, Nd) {
    let r = m.dims.len() as u64;
    match *op {
        ViewOp::Permute(seed) => {
            let mut perm: Vec<usize> = (0..m.dims.len()).collect();
            let mut s = seed;
            for i in (1..perm.len()).rev() {
                perm.swap(i, (s % (i as u64 + 1)) as usize);
                s /= i as u64 + 1;
            }
            (t.permute(&perm).unwrap(), m.permute(&perm))
        }
        ViewOp::Slice {
            axis,
            start,
            len,
            step,
        } if r > 0 => {
            let a = (axis % r) as usize;
            let n = m.dims[a] as u64;
            let start = (start % (n + 1)) as usize;
            let end = start + (len % (n + 2)) as usize; // may run past the end: clamped
            (
                t.slice(a as isize, start, end, step).unwrap(),
                m.slice(a, start, end, step),
            )
        }
        ViewOp::Unsqueeze(axis) if r < 5 => {
            let a = (axis % (r + 1)) as usize;
            (t.unsqueeze(a as isize).unwrap(), m.unsqueeze(a))
        }
        ViewOp::Expand { axis, size } if r > 0 => {
            let a = (axis % r) as usize;
            if m.dims[a] != 1 {
                return (t.clone(), m.clone());
            }
            let mut target = m.dims.clone();
            target[a] = size;
            (t.expand(target.clone()).unwrap(), m.broadcast_to(&target))
        }
        ViewOp::Transpose(x, y) if r > 0 => {
            let (a, b) = ((x % r) as usize, (y % r) as usize);
            let mut perm: Vec<usize> = (0..m.dims.len()).collect();
            perm.swap(a, b);
            (
                t.transpose(a as isize, b as isize - r as isize).unwrap(),
                m.permute(&perm),
            )
        }
        _ => (t.clone(), m.clone()),
    }
}

/// A random chain of views of an iota tensor, with its model.
fn chain(dims: &[usize], ops: &[ViewOp]) -> (Tensor, Nd) {
    let mut m = Nd::iota(dims);
    let base = m.to_tensor();
    let mut t = base.clone();
    for op in ops {
        (t, m) = apply(op, &t, &m);
    }
    // Views never copy.
    assert!(
        t.shares_storage(&base),
        "a chain of views shares the base's storage"
    );
    (t, m)
}

/// Two shapes that broadcast: each side takes a suffix of `out`, each axis either the full
/// size or 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        dims_strategy(4, 3),
        any::<u64>(),
        any::<u64>(),
        0usize..=4,
        0usize..=4,
    )
        .prop_map(|(out, ma, mb, ra, rb)| {
            let side = |mask: u64, rank: usize| -> Vec<usize> {
                let rank = rank.min(out.len());
                out[out.len() - rank..]
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| if mask >> i & 1 == 1 { 1 } else { d })
                    .collect()
            };
            (side(ma, ra), side(mb, rb))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn broadcasting_agrees_with_index_mapping((ad, bd) in broadcast_pair(), ops_a in prop::collection::vec(view_op(), 0..3)) {
        // The right operand goes through view ops first whenever they keep its shape (only
        // permutations of equal sizes do; otherwise it stays as is).
        let a = Nd::iota(&ad);
        let b = Nd { dims: bd.clone(), vals: (0..numel(&bd)).map(|i| 1000.0 * i as f64).collect() };
        let (mut bt, mut bm) = (b.to_tensor(), b.clone());
        for op in &ops_a {
            let (t2, m2) = apply(op, &bt, &bm);
            if m2.dims == bd {
                (bt, bm) = (t2, m2);
            }
        }
        let rank = ad.len().max(bd.len());
        let get = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
        let od: Vec<usize> = (0..rank).map(|i| get(&ad, i).max(get(&bd, i))).collect();
        let od: Vec<usize> = (0..rank).map(|i| if get(&ad, i) == 0 || get(&bd, i) == 0 { 0 } else { od[i] }).collect();
        prop_assert_eq!(broadcast_shapes("t", &Shape::from(ad.clone()), &Shape::from(bd.clone())).unwrap(), Shape::from(od.clone()));
        let want = Nd {
            dims: od.clone(),
            vals: a.broadcast_to(&od).vals.iter().zip(&bm.broadcast_to(&od).vals).map(|(x, y)| x + y).collect(),
        };
        assert_matches(&a.to_tensor().add(&bt).unwrap(), &want)?;
        // Broadcasting is symmetric in the shapes.
        let swapped = bt.add(&a.to_tensor()).unwrap();
        prop_assert_eq!(swapped.dims(), od.as_slice());
    }

    #[test]
    fn incompatible_shapes_are_rejected(dims in dims_strategy(4, 4), axis in any::<u64>(), extra in 2usize..4) {
        prop_assume!(!dims.is_empty());
        let a = axis as usize % dims.len();
        prop_assume!(dims[a] != 1);
        let mut other = dims.clone();
        other[a] = dims[a] + extra; // neither equal nor 1
        let (x, y) = (Nd::iota(&dims).to_tensor(), Nd::iota(&other).to_tensor());
        let e = x.add(&y).unwrap_err().to_string();
        prop_assert!(e.contains("add") && e.contains(&Shape::from(dims).to_string()) && e.contains(&Shape::from(other).to_string()), "{}", e);
    }

    #[test]
    fn view_chains_match_the_model(dims in dims_strategy(4, 4), ops in prop::collection::vec(view_op(), 0..6)) {
        let (t, m) = chain(&dims, &ops);
        assert_matches(&t, &m)?;
        let c = t.contiguous();
        assert_matches(&c, &m)?;
        prop_assert!(c.is_contiguous());
        prop_assert!(row_major_without_gaps(c.dims(), c.strides()));
    }

    #[test]
    fn is_contiguous_is_row_major_without_gaps(dims in dims_strategy(4, 4), ops in prop::collection::vec(view_op(), 0..6)) {
        let (t, m) = chain(&dims, &ops);
        prop_assume!(numel(&m.dims) > 0);
        prop_assert_eq!(t.is_contiguous(), row_major_without_gaps(t.dims(), t.strides()));
        // contiguous() of a contiguous view that is the whole buffer is the same tensor.
        let c = t.contiguous();
        prop_assert!(c.contiguous().shares_storage(&c));
        // A view chain that permutes two axes of size > 1 is never contiguous.
        let big: Vec<usize> = (0..t.rank()).filter(|&a| t.dims()[a] > 1).collect();
        if big.len() >= 2 {
            let swapped = c.transpose(big[0] as isize, big[1] as isize).unwrap();
            prop_assert!(!swapped.is_contiguous());
        }
    }

    #[test]
    fn permute_then_inverse_is_identity(dims in dims_strategy(5, 4), seed in any::<u64>()) {
        let m = Nd::iota(&dims);
        let t = m.to_tensor();
        let (p, pm) = apply(&ViewOp::Permute(seed), &t, &m);
        // Recover the permutation from the model's dims is ambiguous; rebuild it instead.
        let mut perm: Vec<usize> = (0..dims.len()).collect();
        let mut s = seed;
        for i in (1..perm.len()).rev() {
            perm.swap(i, (s % (i as u64 + 1)) as usize);
            s /= i as u64 + 1;
        }
        let mut inv = vec![0; perm.len()];
        for (i, &q) in perm.iter().enumerate() {
            inv[q] = i;
        }
        assert_matches(&p, &pm)?;
        let back = p.permute(&inv).unwrap();
        prop_assert_eq!(back.dims(), t.dims());
        prop_assert_eq!(back.strides(), t.strides());
        prop_assert_eq!(back.offset(), t.offset());
        prop_assert_eq!(values(&back), m.vals.clone());
    }

    #[test]
    fn transpose_twice_is_identity(dims in dims_strategy(4, 4), ops in prop::collection::vec(view_op(), 0..4), a in any::<u64>(), b in any::<u64>()) {
        let (t, m) = chain(&dims, &ops);
        prop_assume!(t.rank() > 0);
        let r = t.rank() as u64;
        let (a, b) = ((a % r) as isize, (b % r) as isize);
        let tt = t.transpose(a, b).unwrap().transpose(b, a).unwrap();
        prop_assert_eq!(tt.dims(), t.dims());
        prop_assert_eq!(tt.strides(), t.strides());
        assert_matches(&tt, &m)?;
        if t.rank() == 2 {
            let t2 = t.t().unwrap().t().unwrap();
            prop_assert_eq!(t2.strides(), t.strides());
        }
    }

    #[test]
    fn reshape_round_trips(dims in dims_strategy(4, 4), ops in prop::collection::vec(view_op(), 0..4), seed in any::<u64>()) {
        let (t, m) = chain(&dims, &ops);
        // Another shape with the same element count: the model's dims shuffled, with a
        // size-1 axis inserted, then flattened pairs.
        let mut shuffled = m.dims.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            s /= i as u64 + 1;
        }
        shuffled.insert((s % (shuffled.len() as u64 + 1)) as usize, 1);
        let r = t.reshape(shuffled.clone()).unwrap();
        prop_assert_eq!(r.dims(), shuffled.as_slice());
        prop_assert_eq!(values(&r), m.vals.clone()); // row-major order is preserved
        let back = r.reshape(m.dims.clone()).unwrap();
        assert_matches(&back, &m)?;
        // A contiguous tensor reshapes without copying.
        if t.is_contiguous() {
            prop_assert!(r.shares_storage(&t));
        }
        let flat = t.reshape([numel(&m.dims)]).unwrap();
        prop_assert_eq!(values(&flat), m.vals.clone());
        // reshape_infer fills one axis.
        if !m.dims.is_empty() && numel(&m.dims) > 0 {
            let mut spec: Vec<isize> = m.dims.iter().map(|&d| d as isize).collect();
            let hole = (seed % spec.len() as u64) as usize;
            spec[hole] = -1;
            assert_matches(&t.reshape_infer(&spec).unwrap(), &m)?;
        }
        // flatten(start, end) merges the axes in between.
        if m.dims.len() >= 2 {
            let f = t.flatten(0, 1).unwrap();
            let mut fd = vec![m.dims[0] * m.dims[1]];
            fd.extend_from_slice(&m.dims[2..]);
            prop_assert_eq!(f.dims(), fd.as_slice());
            prop_assert_eq!(values(&f), m.vals.clone());
        }
    }

    #[test]
    fn slice_and_narrow_gather_the_reference_elements(dims in dims_strategy(4, 5), ops in prop::collection::vec(view_op(), 0..3), axis in any::<u64>(), start in any::<u64>(), len in any::<u64>(), step in 1usize..4) {
        let (t, m) = chain(&dims, &ops);
        prop_assume!(t.rank() > 0);
        let a = (axis % t.rank() as u64) as usize;
        let n = m.dims[a];
        let start = (start % (n as u64 + 1)) as usize;
        let len = (len % (n - start + 1) as u64) as usize;
        let s = t.slice(a as isize, start, start + len, step).unwrap();
        assert_matches(&s, &m.slice(a, start, start + len, step))?;
        let nw = t.narrow(a as isize - t.rank() as isize, start, len).unwrap();
        assert_matches(&nw, &m.slice(a, start, start + len, 1))?;
        prop_assert!(nw.shares_storage(&t));
        // narrow past the end is an error, not a shorter view.
        prop_assert!(t.narrow(a as isize, start, n - start + 1).is_err());
    }

    #[test]
    fn broadcast_to_then_contiguous_repeats_explicitly(src in dims_strategy(3, 3), extra in dims_strategy(2, 3), mask in any::<u64>(), sizes in prop::collection::vec(0usize..4, 3)) {
        // Target: new leading axes, and each size-1 source axis possibly expanded.
        let mut target = extra.clone();
        for (i, &d) in src.iter().enumerate() {
            target.push(if d == 1 && mask >> i & 1 == 1 { sizes[i] } else { d });
        }
        let m = Nd::iota(&src);
        let b = m.to_tensor().broadcast_to(target.clone()).unwrap();
        let want = m.broadcast_to(&target);
        assert_matches(&b, &want)?;
        assert_matches(&b.contiguous(), &want)?;
        // Expanded axes have stride 0 (no copy).
        for (i, &d) in src.iter().enumerate() {
            if d == 1 && target[extra.len() + i] != 1 {
                prop_assert_eq!(b.strides()[extra.len() + i], 0);
            }
        }
        prop_assert!(b.shares_storage(&b.expand(target).unwrap()));
    }

    #[test]
    fn squeeze_unsqueeze_round_trip(dims in dims_strategy(4, 3), ops in prop::collection::vec(view_op(), 0..3), axis in any::<u64>()) {
        let (t, m) = chain(&dims, &ops);
        let r = t.rank() as u64;
        let a = (axis % (r + 1)) as isize;
        let u = t.unsqueeze(a).unwrap();
        prop_assert_eq!(u.dims()[a as usize], 1);
        let back = u.squeeze(a).unwrap();
        prop_assert_eq!(back.dims(), t.dims());
        prop_assert_eq!(back.strides(), t.strides());
        assert_matches(&back, &m)?;
        let all = t.squeeze_all();
        let kept: Vec<usize> = m.dims.iter().copied().filter(|&d| d != 1).collect();
        prop_assert_eq!(all.dims(), kept.as_slice());
        prop_assert_eq!(values(&all), m.vals.clone());
    }
}

#[test]
fn views_share_storage_and_ops_do_not() {
    let t = Nd::iota(&[2, 3]).to_tensor();
    for v in [
        t.t().unwrap(),
        t.reshape([3, 2]).unwrap(),
        t.narrow(1, 1, 2).unwrap(),
        t.unsqueeze(0).unwrap(),
        t.slice(0, 0, 2, 2).unwrap(),
        t.expand([4, 2, 3]).unwrap(),
    ] {
        assert!(v.shares_storage(&t));
    }
    assert!(!t.add(&t).unwrap().shares_storage(&t));
    assert!(!t.t().unwrap().contiguous().shares_storage(&t));
    assert!(!t.to_dtype(DType::F32).unwrap().shares_storage(&t));
    // Reshaping a non-contiguous view copies (as PyTorch's reshape does).
    assert!(!t.t().unwrap().reshape([6]).unwrap().shares_storage(&t));
}
