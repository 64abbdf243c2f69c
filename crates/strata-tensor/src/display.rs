//! `Display` that prints like PyTorch's `repr` (print options: precision 4, linewidth 80,
//! threshold 1000, edgeitems 3): the same choice of integer / fixed / scientific mode, the
//! same column widths, line wrapping, summarization with `...`, and `dtype=`/`size=` suffixes.

use crate::{DType, Tensor};
use std::fmt;

const PRECISION: usize = 4;
const LINEWIDTH: usize = 80;
const THRESHOLD: usize = 1000;
const EDGEITEMS: usize = 3;

/// One element, converted for printing.
#[derive(Clone, Copy)]
enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
}

/// Python's `'{:.Ne}'`: mantissa, `e`, sign, at least two exponent digits.
fn sci(v: f64) -> String {
    if !v.is_finite() {
        return float_special(v);
    }
    let s = format!("{v:.PRECISION$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mant}e{sign}{digits:0>2}")
}

fn float_special(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// PyTorch's `_Formatter`: picks the mode from the (summarized) values and pads to one width.
struct Formatter {
    int_mode: bool,
    sci_mode: bool,
    width: usize,
}

impl Formatter {
    fn new(values: &[Value]) -> Formatter {
        let mut f = Formatter {
            int_mode: true,
            sci_mode: false,
            width: 1,
        };
        let floats: Vec<f64> = values
            .iter()
            .filter_map(|v| match v {
                Value::Float(x) if x.is_finite() && *x != 0.0 => Some(*x),
                _ => None,
            })
            .collect();
        let is_float = matches!(values.first(), Some(Value::Float(_)));
        if !is_float {
            f.width = values
                .iter()
                .map(|&v| f.plain(v).len())
                .max()
                .unwrap_or(1)
                .max(1);
            return f;
        }
        if floats.is_empty() {
            return f;
        }
        let min = floats.iter().fold(f64::INFINITY, |m, x| m.min(x.abs()));
        let max = floats.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        f.int_mode = floats.iter().all(|x| x.ceil() == *x);
        f.sci_mode = max / min > 1000.0 || max > 1.0e8 || (!f.int_mode && min < 1.0e-4);
        f.width = floats
            .iter()
            .map(|&x| match (f.sci_mode, f.int_mode) {
                (true, _) => sci(x).len(),
                (false, true) => format!("{x:.0}").len() + 1,
                (false, false) => format!("{x:.PRECISION$}").len(),
            })
            .max()
            .unwrap_or(1);
        f
    }

    fn plain(&self, v: Value) -> String {
        match v {
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
            Value::Float(x) if self.sci_mode => sci(x),
            Value::Float(x) if !x.is_finite() => float_special(x),
            Value::Float(x) if self.int_mode => format!("{x:.0}."),
            Value::Float(x) => format!("{x:.PRECISION$}"),
        }
    }

    fn format(&self, v: Value) -> String {
        format!("{:>w$}", self.plain(v), w = self.width)
    }
}

/// A row-major block of values with its shape, for recursive printing.
struct Block<'a> {
    values: &'a [Value],
    dims: &'a [usize],
}

impl<'a> Block<'a> {
    fn sub(&self, i: usize) -> Block<'a> {
        let step: usize = self.dims[1..].iter().product();
        Block {
            values: &self.values[i * step..(i + 1) * step],
            dims: &self.dims[1..],
        }
    }

    /// Indices printed along the first axis (edge items only when summarizing).
    fn shown(&self, summarize: bool) -> Vec<Option<usize>> {
        let n = self.dims[0];
        if summarize && n > 2 * EDGEITEMS {
            (0..EDGEITEMS)
                .map(Some)
                .chain([None])
                .chain((n - EDGEITEMS..n).map(Some))
                .collect()
        } else {
            (0..n).map(Some).collect()
        }
    }

    /// The values a summarized print shows (what the formatter measures).
    fn summarized(&self, summarize: bool, out: &mut Vec<Value>) {
        if self.dims.is_empty() {
            out.extend_from_slice(self.values);
            return;
        }
        for i in self.shown(summarize).into_iter().flatten() {
            self.sub(i).summarized(summarize, out);
        }
    }

    fn render(&self, indent: usize, summarize: bool, f: &Formatter) -> String {
        match self.dims.len() {
            0 => f.format(self.values[0]),
            1 => {
                let per_line = ((LINEWIDTH - indent) / (f.width + 2)).max(1);
                let items: Vec<String> = self
                    .shown(summarize)
                    .into_iter()
                    .map(|i| i.map_or(" ...".to_string(), |i| f.format(self.values[i])))
                    .collect();
                let lines: Vec<String> = items.chunks(per_line).map(|l| l.join(", ")).collect();
                format!(
                    "[{}]",
                    lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
                )
            }
            rank => {
                let parts: Vec<String> = self
                    .shown(summarize)
                    .into_iter()
                    .map(|i| {
                        i.map_or("...".to_string(), |i| {
                            self.sub(i).render(indent + 1, summarize, f)
                        })
                    })
                    .collect();
                let sep = format!(",{}{}", "\n".repeat(rank - 1), " ".repeat(indent + 1));
                format!("[{}]", parts.join(&sep))
            }
        }
    }
}

impl Tensor {
    fn print_values(&self) -> Vec<Value> {
        match self.dtype() {
            DType::I64 => self
                .to_vec::<i64>()
                .unwrap_or_default()
                .into_iter()
                .map(Value::Int)
                .collect(),
            DType::Bool => self
                .to_vec::<bool>()
                .unwrap_or_default()
                .into_iter()
                .map(Value::Bool)
                .collect(),
            _ => self.to_vec_f64().into_iter().map(Value::Float).collect(),
        }
    }
}

fn torch_dtype(d: DType) -> &'static str {
    match d {
        DType::F32 => "torch.float32",
        DType::F64 => "torch.float64",
        DType::I64 => "torch.int64",
        DType::Bool => "torch.bool",
        DType::F16 => "torch.float16",
        DType::BF16 => "torch.bfloat16",
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIX: &str = "tensor(";
        let mut suffixes = Vec::new();
        let body = if self.numel() == 0 {
            if self.dims() != [0] {
                let dims: Vec<String> = self.dims().iter().map(|d| d.to_string()).collect();
                let trailing = if dims.len() == 1 { "," } else { "" };
                suffixes.push(format!("size=({}{trailing})", dims.join(", ")));
            }
            "[]".to_string()
        } else {
            let values = self.print_values();
            let block = Block {
                values: &values,
                dims: self.dims(),
            };
            let summarize = self.numel() > THRESHOLD;
            let mut shown = Vec::new();
            block.summarized(summarize, &mut shown);
            block.render(PREFIX.len(), summarize, &Formatter::new(&shown))
        };
        // An empty tensor has no values to tell i64 or bool apart, so only the default dtype
        // (f32) goes without a suffix; otherwise i64 and bool are implied by their values.
        let implied = if self.numel() == 0 {
            matches!(self.dtype(), DType::F32)
        } else {
            matches!(self.dtype(), DType::F32 | DType::I64 | DType::Bool)
        };
        if !implied {
            suffixes.push(format!("dtype={}", torch_dtype(self.dtype())));
        }
        let text = format!("{PREFIX}{body}");
        // PyTorch's `_add_suffixes`: a suffix that would overflow the line width goes on a new
        // line indented like the values. As in PyTorch, the current line's length counts two
        // more than the characters after the last newline.
        let after_newline = text.rfind('\n').map_or(text.len() + 1, |p| text.len() - p);
        let mut line_len = after_newline + 1;
        out.write_str(&text)?;
        for s in suffixes {
            if line_len + s.len() + 2 > LINEWIDTH {
                write!(out, ",\n{}{s}", " ".repeat(PREFIX.len()))?;
                line_len = PREFIX.len() + s.len();
            } else {
                write!(out, ", {s}")?;
                line_len += s.len() + 2;
            }
        }
        write!(out, ")")
    }
}
