//! Shape ops: reshape, flatten, permute, transpose, broadcast_to, concat, tile, split, slice,
//! pad.
//! All keep the dtype.

use super::{axis, common_dtype, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, Shape};

pub(crate) mod reference;

/// torch.reshape: at most one `-1`, inferred from the element count; the counts must match.
pub(super) fn reshape(target: &[i64], x: &TensorType) -> RuleResult {
    let numel = x.shape.numel();
    let mut inferred = None;
    let mut known: usize = 1;
    let mut dims = Vec::with_capacity(target.len());
    for (i, &d) in target.iter().enumerate() {
        match (d, usize::try_from(d)) {
            (-1, _) if inferred.is_none() => {
                inferred = Some(i);
                dims.push(0);
            }
            (_, Ok(d)) => {
                known = known
                    .checked_mul(d)
                    .ok_or_else(|| format!("the target {target:?} overflows"))?;
                dims.push(d);
            }
            _ => return Err(format!("bad target {target:?}: one -1 at most, others ≥ 0")),
        }
    }
    match inferred {
        Some(i) if known != 0 && numel.is_multiple_of(known) => dims[i] = numel / known,
        Some(_) => {
            return Err(format!(
                "cannot infer the -1 in {target:?} for {numel} elements"
            ))
        }
        None if known != numel => return Err(format!("{target:?} does not hold {numel} elements")),
        None => {}
    }
    Ok(TensorType::new(dims, x.dtype))
}

/// torch.flatten: axes `start..=end` merged (a scalar becomes `[1]`).
pub(super) fn flatten(start: isize, end: isize, x: &TensorType) -> RuleResult {
    let rank = x.rank().max(1);
    let (s, e) = (axis(start, rank)?, axis(end, rank)?);
    if s > e {
        return Err(format!("start axis {start} comes after end axis {end}"));
    }
    let dims = if x.rank() == 0 { &[1][..] } else { x.dims() };
    let merged: usize = dims[s..=e].iter().product();
    Ok(TensorType::new(
        [&dims[..s], &[merged], &dims[e + 1..]].concat(),
        x.dtype,
    ))
}

/// torch.permute: `perm` is a permutation of `0..rank`; output axis `i` is input axis `perm[i]`.
pub(super) fn permute(perm: &[usize], x: &TensorType) -> RuleResult {
    let mut seen = vec![false; x.rank()];
    for &p in perm {
        match seen.get_mut(p) {
            Some(s) if !*s => *s = true,
            _ => return Err(format!("{perm:?} is not a permutation of 0..{}", x.rank())),
        }
    }
    if perm.len() != x.rank() {
        return Err(format!("{perm:?} is not a permutation of 0..{}", x.rank()));
    }
    Ok(TensorType::new(
        perm.iter().map(|&p| x.dims()[p]).collect::<Vec<_>>(),
        x.dtype,
    ))
}

/// torch.transpose: two axes swapped.
pub(super) fn transpose(axis0: isize, axis1: isize, x: &TensorType) -> RuleResult {
    let rank = x.rank().max(1);
    let (a, b) = (axis(axis0, rank)?, axis(axis1, rank)?);
    let mut dims = x.dims().to_vec();
    if x.rank() > 0 {
        dims.swap(a, b);
    }
    Ok(TensorType::new(dims, x.dtype))
}

/// torch.broadcast_to: the input broadcasts (NumPy rules) to exactly `target`.
pub(super) fn broadcast_to(target: &Shape, x: &TensorType) -> RuleResult {
    match broadcast_shapes("broadcast_to", &x.shape, target) {
        Ok(shape) if &shape == target => Ok(TensorType::new(shape, x.dtype)),
        _ => Err(format!("{} does not broadcast to {target}", x.shape)),
    }
}

/// torch.cat: same rank ≥ 1 and dtype; dims equal but at `axis`, where they add up.
pub(super) fn concat(along: isize, inputs: &[TensorType]) -> RuleResult {
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    let first = &inputs[0];
    if first.rank() == 0 {
        return Err("cannot concatenate scalars".into());
    }
    let a = axis(along, first.rank())?;
    let mut dims = first.dims().to_vec();
    for t in &inputs[1..] {
        let agrees = t.rank() == first.rank()
            && (t.dims().iter().zip(first.dims()).enumerate()).all(|(d, (x, y))| d == a || x == y);
        if !agrees {
            return Err(format!(
                "{} and {} differ off axis {a}",
                first.shape, t.shape
            ));
        }
        dims[a] = dims[a]
            .checked_add(t.dims()[a])
            .ok_or("the concatenated size overflows")?;
    }
    Ok(TensorType::new(dims, dtype))
}

/// Piece `index` of torch.split(x, sizes, axis): the sizes add up to the axis extent.
pub(super) fn split(along: isize, sizes: &[usize], index: usize, x: &TensorType) -> RuleResult {
    let a = axis(along, x.rank())?;
    let total = sizes.iter().try_fold(0usize, |acc, &s| acc.checked_add(s));
    if total != Some(x.dims()[a]) {
        return Err(format!(
            "sizes {sizes:?} do not add up to axis {a}'s extent {}",
            x.dims()[a]
        ));
    }
    let Some(&size) = sizes.get(index) else {
        return Err(format!("piece {index} of {} does not exist", sizes.len()));
    };
    let mut dims = x.dims().to_vec();
    dims[a] = size;
    Ok(TensorType::new(dims, x.dtype))
}

/// A Python slice bound resolved against `len`: negative counts from the end, then clamped.
fn clamp_bound(bound: i64, len: usize) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let b = if bound < 0 {
        bound.saturating_add(len_i)
    } else {
        bound
    };
    usize::try_from(b.clamp(0, len_i)).unwrap_or(len)
}

/// `x[start:end:step]` along `axis`: `⌈(end' − start')/step⌉` elements (0 if end' ≤ start').
pub(super) fn slice(along: isize, start: i64, end: i64, step: usize, x: &TensorType) -> RuleResult {
    if step == 0 {
        return Err("the step must be ≥ 1".into());
    }
    let a = axis(along, x.rank())?;
    let (s, e) = slice_bounds(x.dims(), along, start, end)?;
    let mut dims = x.dims().to_vec();
    dims[a] = e.saturating_sub(s).div_ceil(step);
    Ok(TensorType::new(dims, x.dtype))
}

/// The resolved `(start, end)` of a slice along `along` of `dims` (end may be < start: empty).
pub(crate) fn slice_bounds(
    dims: &[usize],
    along: isize,
    start: i64,
    end: i64,
) -> Result<(usize, usize), String> {
    let len = dims[axis(along, dims.len())?];
    Ok((clamp_bound(start, len), clamp_bound(end, len)))
}

/// F.pad (constant mode): `(before, after)` pairs from the last axis backwards.
pub(super) fn pad(pads: &[[usize; 2]], x: &TensorType) -> RuleResult {
    if pads.len() > x.rank() {
        return Err(format!("{} pad pairs for rank {}", pads.len(), x.rank()));
    }
    let mut dims = x.dims().to_vec();
    for (d, [before, after]) in dims.iter_mut().rev().zip(pads) {
        *d = d
            .checked_add(*before)
            .and_then(|v| v.checked_add(*after))
            .ok_or("the padded size overflows")?;
    }
    Ok(TensorType::new(dims, x.dtype))
}

/// torch.tile with one repeat count per axis: each extent multiplied by its count.
pub(super) fn tile(repeats: &[usize], x: &TensorType) -> RuleResult {
    if repeats.len() != x.rank() {
        return Err(format!(
            "{} repeat counts for rank {}",
            repeats.len(),
            x.rank()
        ));
    }
    let dims = (x.dims().iter().zip(repeats))
        .map(|(&d, &r)| {
            d.checked_mul(r)
                .ok_or_else(|| format!("tiling {} by {repeats:?} overflows", x.shape))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TensorType::new(dims, x.dtype))
}
