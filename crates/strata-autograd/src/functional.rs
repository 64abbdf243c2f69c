//! Functional derivatives (JAX/`torch.func` style): each takes a function of vars on a fresh
//! tape and the point, and returns plain tensors.

use crate::error::AutogradError;
use crate::tape::{Gradients, Tape, Var};
use strata_ir::eval::Native;
use strata_tensor::Tensor;

type R<T> = Result<T, AutogradError>;

/// The function shape all functional derivatives take.
pub trait TapeFn: Fn(&Tape, &[Var]) -> R<Var> {}
impl<F: Fn(&Tape, &[Var]) -> R<Var>> TapeFn for F {}

fn record(f: &impl TapeFn, x: &[Tensor]) -> R<(Tape, Vec<Var>, Var)> {
    let tape = Tape::new();
    let vars: Vec<Var> = x.iter().map(|t| tape.input(t.clone(), true)).collect();
    let y = f(&tape, &vars)?;
    Ok((tape, vars, y))
}

/// Each input's gradient (zeros for an input the output does not depend on).
fn grads_of(vars: &[Var], g: &Gradients) -> Vec<Tensor> {
    vars.iter()
        .map(|v| g.get(v).cloned().unwrap_or_else(|| zeros_like(&v.value())))
        .collect()
}

fn zeros_like(t: &Tensor) -> Tensor {
    Tensor::zeros(t.shape().clone(), t.dtype()).unwrap_or_else(|_| t.clone())
}

/// `(f(x), Jᵀ v)`: the output and each input's cotangent for the output cotangent `v`.
pub fn vjp(f: impl TapeFn, x: &[Tensor], v: Tensor) -> R<(Tensor, Vec<Tensor>)> {
    let (tape, vars, y) = record(&f, x)?;
    let g = tape.backward_with(&y, v)?;
    Ok((y.value(), grads_of(&vars, &g)))
}

/// The gradient of a scalar `f` at `x`, one tensor per input.
pub fn grad(f: impl TapeFn, x: &[Tensor]) -> R<Vec<Tensor>> {
    let (tape, vars, y) = record(&f, x)?;
    let g = tape.backward(&y)?;
    Ok(grads_of(&vars, &g))
}

/// `(f(x), J t)`: forward mode, pushing the tangents `t` through the recorded steps.
pub fn jvp(f: impl TapeFn, x: &[Tensor], t: &[Tensor]) -> R<(Tensor, Tensor)> {
    if t.len() != x.len() {
        return Err(AutogradError::Usage(format!(
            "{} tangents for {} inputs",
            t.len(),
            x.len()
        )));
    }
    let (tape, vars, y) = record(&f, x)?;
    let (steps, values, config) = {
        let inner = tape.0.borrow();
        (inner.steps.clone(), inner.values.clone(), inner.config)
    };
    let mut tan: Vec<Option<Tensor>> = vec![None; values.len()];
    for (v, ti) in vars.iter().zip(t) {
        if ti.shape() != v.value().shape() {
            return Err(AutogradError::Usage(format!(
                "tangent {} for an input {}",
                ti.shape(),
                v.value().shape()
            )));
        }
        tan[v.id()] = Some(ti.clone());
    }
    let mut native = Native { config };
    for (op, ins, out) in &steps {
        let xs: Vec<Tensor> = ins.iter().map(|&i| values[i].clone()).collect();
        let ts: Vec<Option<Tensor>> = ins.iter().map(|&i| tan[i].clone()).collect();
        tan[*out] = op
            .jvp(&mut native, &xs, &values[*out], &ts)
            .map_err(AutogradError::Op)?;
    }
    let yv = y.value();
    let ty = tan[y.id()].clone().unwrap_or_else(|| zeros_like(&yv));
    Ok((yv, ty))
}

/// The Jacobian of `f` at the single input `x`: shape `out.dims ++ x.dims`, one VJP per
/// output element.
pub fn jacobian(f: impl TapeFn, x: &Tensor) -> R<Tensor> {
    let (tape, vars, y) = record(&f, std::slice::from_ref(x))?;
    let yv = y.value();
    let (m, n) = (yv.numel(), x.numel());
    let mut rows: Vec<f64> = Vec::with_capacity(m * n);
    for k in 0..m {
        let mut e = vec![0.0; m];
        e[k] = 1.0;
        let v = Tensor::from_vec(e, yv.shape().clone())
            .and_then(|t| t.to_dtype(yv.dtype()))
            .map_err(|e| AutogradError::Op(e.to_string()))?;
        let g = tape.backward_with(&y, v)?;
        let row = g.get(&vars[0]).cloned().unwrap_or_else(|| zeros_like(x));
        rows.extend(row.to_vec_f64());
    }
    let dims: Vec<usize> = yv.dims().iter().chain(x.dims()).copied().collect();
    Tensor::from_vec(rows, dims)
        .and_then(|t| t.to_dtype(yv.dtype()))
        .map_err(|e| AutogradError::Op(e.to_string()))
}

/// `H v` for a scalar `f` (reverse over reverse: the gradient is recorded on the tape, then
/// `⟨∇f, v⟩` is differentiated again).
pub fn hessian_vector_product(f: impl TapeFn, x: &[Tensor], v: &[Tensor]) -> R<Vec<Tensor>> {
    let (tape, vars, y) = record(&f, x)?;
    let ty = y.ty();
    if ty.rank() != 0 {
        return Err(AutogradError::NotScalar(ty));
    }
    let one =
        tape.constant(Tensor::ones([], ty.dtype).map_err(|e| AutogradError::Op(e.to_string()))?);
    let grads = tape.backward_recorded(&y, &one)?;
    let mut inner: Option<Var> = None;
    for (leaf, g) in &grads {
        let Some(k) = vars.iter().position(|v| v.id() == leaf.id()) else {
            continue;
        };
        let term = g.mul(&tape.constant(v[k].clone()))?.sum_all()?;
        inner = Some(match inner {
            Some(acc) => acc.add(&term)?,
            None => term,
        });
    }
    let Some(inner) = inner else {
        return Ok(x.iter().map(zeros_like).collect());
    };
    let hv = tape.backward(&inner)?;
    Ok(grads_of(&vars, &hv))
}
