//! Linear algebra: `matmul` (torch.matmul), `linear` (F.linear) and `einsum`.

use super::{common_dtype, require_dims, require_float, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, DType, Shape};

pub(crate) mod error;
pub(crate) mod reference;

/// torch.matmul: `[n]·[n] → []`; `[m, k]·[k, n] → [m, n]`; a 1-D left operand is a row
/// (prepended 1, removed after), a 1-D right operand a column (appended 1, removed after);
/// batch dimensions (all but the last two) broadcast.
pub(super) fn matmul(a: &TensorType, b: &TensorType) -> RuleResult {
    let dtype = common_dtype(&[a, b])?;
    if dtype == DType::Bool {
        return Err("needs a numeric dtype, got bool".into());
    }
    if a.rank() == 0 || b.rank() == 0 {
        return Err("both operands need at least one dimension".into());
    }
    let mut lhs = a.dims().to_vec();
    let mut rhs = b.dims().to_vec();
    let (row, col) = (lhs.len() == 1, rhs.len() == 1);
    if row {
        lhs.insert(0, 1);
    }
    if col {
        rhs.push(1);
    }
    let (m, k) = (lhs[lhs.len() - 2], lhs[lhs.len() - 1]);
    let (k2, n) = (rhs[rhs.len() - 2], rhs[rhs.len() - 1]);
    if k != k2 {
        return Err(format!(
            "the contracted dimensions differ: {} has {k} columns, {} has {k2} rows",
            a.shape, b.shape
        ));
    }
    let batch_a = Shape::from(&lhs[..lhs.len() - 2]);
    let batch_b = Shape::from(&rhs[..rhs.len() - 2]);
    let batch = broadcast_shapes("matmul", &batch_a, &batch_b)
        .map_err(|_| format!("batch dimensions {batch_a} and {batch_b} do not broadcast"))?;
    let mut dims = batch.into_vec();
    if !row {
        dims.push(m);
    }
    if !col {
        dims.push(n);
    }
    Ok(TensorType::new(dims, dtype))
}

/// F.linear: `x [*, in]`, `weight [out, in]`, optional `bias [out]` → `[*, out]`.
pub(super) fn linear(inputs: &[TensorType]) -> RuleResult {
    let (x, weight) = (&inputs[0], &inputs[1]);
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "linear's operands")?;
    let [out_features, in_features] = weight.dims() else {
        return Err(format!(
            "the weight must be [out, in], got {}",
            weight.shape
        ));
    };
    if x.dims().last() != Some(in_features) {
        return Err(format!(
            "the input's last dimension must be the weight's {in_features} input features"
        ));
    }
    if let Some(bias) = inputs.get(2) {
        require_dims(bias, &[*out_features], "the bias")?;
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = *out_features;
    }
    Ok(TensorType::new(dims, dtype))
}

/// A parsed einsum equation: each operand's letters and the output's letters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EinsumSpec {
    pub operands: Vec<Vec<u8>>,
    pub output: Vec<u8>,
}

impl EinsumSpec {
    pub fn parse(equation: &str, operands: usize) -> Result<EinsumSpec, String> {
        let equation: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, output) = match equation.split_once("->") {
            Some((lhs, rhs)) => (lhs, Some(rhs)),
            None => (equation.as_str(), None),
        };
        let letters = |term: &str| -> Result<Vec<u8>, String> {
            let mut seen = Vec::new();
            for c in term.bytes() {
                if !c.is_ascii_lowercase() {
                    return Err(format!(
                        "`{equation}`: `{}` is not a lowercase letter",
                        c as char
                    ));
                }
                if seen.contains(&c) {
                    return Err(format!(
                        "`{equation}`: `{}` repeats within `{term}`",
                        c as char
                    ));
                }
                seen.push(c);
            }
            Ok(seen)
        };
        let terms = lhs.split(',').map(letters).collect::<Result<Vec<_>, _>>()?;
        if terms.len() != operands {
            return Err(format!(
                "`{equation}` has {} operands, the node {operands} inputs",
                terms.len()
            ));
        }
        let count = |c: u8| terms.iter().filter(|t| t.contains(&c)).count();
        let output = match output {
            Some(rhs) => letters(rhs)?,
            None => {
                let mut once: Vec<u8> = (b'a'..=b'z').filter(|&c| count(c) == 1).collect();
                once.sort_unstable();
                once
            }
        };
        if let Some(&c) = output.iter().find(|&&c| count(c) == 0) {
            return Err(format!(
                "`{equation}`: output letter `{}` is in no operand",
                c as char
            ));
        }
        Ok(EinsumSpec {
            operands: terms,
            output,
        })
    }

    /// Every letter's extent, checked to agree across operands.
    pub fn extents(&self, shapes: &[&[usize]]) -> Result<[Option<usize>; 26], String> {
        let mut extent = [None; 26];
        for (term, dims) in self.operands.iter().zip(shapes) {
            if term.len() != dims.len() {
                return Err(format!(
                    "operand `{}` has rank {}, its shape {:?}",
                    String::from_utf8_lossy(term),
                    term.len(),
                    dims
                ));
            }
            for (&c, &d) in term.iter().zip(dims.iter()) {
                match &mut extent[usize::from(c - b'a')] {
                    Some(e) if *e != d => {
                        return Err(format!("letter `{}` is {e} and {d}", c as char))
                    }
                    slot => *slot = Some(d),
                }
            }
        }
        Ok(extent)
    }
}

/// torch.einsum's shape rule: letters agree on their extents; float operands of one dtype.
pub(super) fn einsum(equation: &str, inputs: &[TensorType]) -> RuleResult {
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "einsum's operands")?;
    let spec = EinsumSpec::parse(equation, inputs.len())?;
    let shapes: Vec<&[usize]> = inputs.iter().map(TensorType::dims).collect();
    let extent = spec.extents(&shapes)?;
    let dims: Vec<usize> = (spec.output.iter())
        .map(|&c| extent[usize::from(c - b'a')].unwrap_or(0))
        .collect();
    Ok(TensorType::new(dims, dtype))
}
