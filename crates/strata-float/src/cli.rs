//! `strata float`: the float widgets in a terminal.
//!
//! - `strata float 0.1`, `strata float 0x3dcccccd`: fields, class, exact value, ulp, neighbours and
//!   (for decimal input) how the input rounds in each mode;
//! - `strata float add 0x3f800000 0x33800000 --mode rdn`: one operation, its result bits and flags;
//! - `strata float eval`: the batch form. Each stdin line is `<op> <mode> <operand>…` with operands
//!   as hex bits (8 digits for binary32 and 32-bit integers, 16 for binary64 and 64-bit integers,
//!   `0x` optional); each output line is `<result> <flags>` (hex bits, or 0/1 for comparisons; flags
//!   are the letters x u o z i of the raised inexact, underflow, overflow, divide-by-zero and invalid,
//!   or `-`). Blank lines and lines starting with `#` are skipped; a malformed line prints
//!   `error: line N: …` and evaluation goes on (the command then fails at the end).
//!
//! - `strata float exp 0x3f800000 --mode rup` (also expm1 log log1p tanh sigmoid erf sin cos): a
//!   correctly rounded transcendental of the `Ieee32` model;
//! - `strata float check-exhaustive exp [--mode rne] [--state FILE] [--chunks 0..4096]
//!   [--threads N]`: every one of the 2^32 inputs of a transcendental against the independent
//!   oracle (all five modes unless `--mode` names one), in parallel with a progress bar, resumable
//!   from the state file; prints the mismatch count, the first ten mismatches, the oracle's
//!   undecided inputs (expected none), the native `f32` function's accuracy and the wall time, and
//!   fails when anything disagrees.
//!
//! Ops: add sub mul div fma sqrt rem round_to_int (roundToIntegralExact), minnum maxnum (754-2008),
//! minimum maximum minimum_number maximum_number (754-2019), eq (quiet) lt le (signaling),
//! f32_to_{i32,u32,i64,u64}, {i32,u32,i64,u64}_to_f32, f64_to_f32, f32_to_f64, and the correctly
//! rounded exp expm1 log log1p tanh sigmoid erf sin cos.
//! Modes: rne rna rtz rup rdn (and the words nearest-even, nearest-away, zero, up, down).

use crate::env::{Flags, FpEnv, NanPolicy, RoundingMode, Tininess};
use crate::ieee32::Ieee32;
use std::io::{BufRead, Write};

/// Arguments of `strata float`.
#[derive(clap::Args, Clone, Debug)]
pub struct FloatArgs {
    /// A value (`0.1`, `0x3dcccccd`), an operation and its operands (`add 1.5 0x3f800000`), or `eval`.
    #[arg(required = true, allow_negative_numbers = true)]
    pub words: Vec<String>,
    /// Rounding mode of a single operation: rne (the default), rna, rtz, rup, rdn (or nearest-even,
    /// nearest-away, zero, up, down). For check-exhaustive: check only this mode (default: all).
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<RoundingMode>,
    /// When underflow counts a result as tiny: after (x86) or before (ARM) rounding.
    #[arg(long, default_value = "after", value_parser = ["after", "before"])]
    pub tininess: String,
    /// NaN results: x86 (first NaN operand, quieted) or canonical (0x7fc00000).
    #[arg(long, default_value = "x86", value_parser = ["x86", "canonical"])]
    pub nan: String,
    /// check-exhaustive: the state file that records finished chunks (default
    /// `check-exhaustive-<fn>-<modes>.state` in the current directory).
    #[arg(long)]
    pub state: Option<std::path::PathBuf>,
    /// check-exhaustive: the chunks of 2^20 inputs to run, `START..END` (default 0..4096, all).
    #[arg(long)]
    pub chunks: Option<String>,
    /// check-exhaustive: worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

fn parse_mode(text: &str) -> Result<RoundingMode, String> {
    match text {
        "nearest-even" | "even" => Ok(RoundingMode::NearestEven),
        "nearest-away" | "away" => Ok(RoundingMode::NearestAway),
        "zero" => Ok(RoundingMode::TowardZero),
        "up" => Ok(RoundingMode::TowardPos),
        "down" => Ok(RoundingMode::TowardNeg),
        short => short.parse(),
    }
}

impl FloatArgs {
    fn env(&self) -> FpEnv {
        FpEnv {
            mode: self.mode.unwrap_or_default(),
            tininess: if self.tininess == "before" {
                Tininess::BeforeRounding
            } else {
                Tininess::AfterRounding
            },
            nan: if self.nan == "canonical" {
                NanPolicy::Canonical
            } else {
                NanPolicy::X86Sse
            },
        }
    }
}

/// Runs `strata float` on the process's stdin and stdout.
pub fn run(args: &FloatArgs) -> Result<(), String> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    run_with(args, stdin.lock(), std::io::BufWriter::new(stdout.lock()))
}

/// Runs `strata float` with the given input (read only by `eval`) and output.
pub fn run_with<R: BufRead, W: Write>(
    args: &FloatArgs,
    input: R,
    mut output: W,
) -> Result<(), String> {
    let io_error = |e: std::io::Error| format!("writing output: {e}");
    let env = args.env();
    let result = match args.words.as_slice() {
        [word] if word == "eval" => eval_lines(input, &mut output, env.tininess, env.nan),
        [word, name] if word == "check-exhaustive" => check_exhaustive(args, name, &mut output),
        [name, operands @ ..] if find_op(name).is_some() => {
            let op = find_op(name).expect("checked by the guard");
            show_op(op, operands, env, &mut output)
        }
        [value] => {
            let parsed = parse_value(value)?;
            inspect(value, parsed, &mut output).map_err(io_error)
        }
        _ => Err(format!(
            "expected a value, `eval`, or an operation with operands; got `{}`",
            args.words.join(" ")
        )),
    };
    output.flush().map_err(io_error)?;
    result
}

/// What an operand or result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    F32,
    F64,
    I32,
    U32,
    I64,
    U64,
    Bool,
}

impl Kind {
    fn hex_digits(self) -> usize {
        match self {
            Kind::F32 | Kind::I32 | Kind::U32 => 8,
            Kind::F64 | Kind::I64 | Kind::U64 => 16,
            Kind::Bool => 1,
        }
    }
}

/// An operation of the batch and single-operation forms, on raw operand bits.
struct Op {
    name: &'static str,
    inputs: &'static [Kind],
    output: Kind,
    eval: fn(&[u64], FpEnv) -> (u64, Flags),
}

/// A result as raw bits for printing.
trait Raw {
    fn raw(self) -> u64;
}

macro_rules! raw_as {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl Raw for $t {
            fn raw(self) -> u64 {
                let $v = self;
                $e
            }
        })*
    };
}

raw_as! {
    Ieee32 => |x| x.to_bits() as u64;
    bool => |x| x as u64;
    i32 => |x| x as u32 as u64;
    u32 => |x| x as u64;
    i64 => |x| x as u64;
    u64 => |x| x;
}

fn f(bits: u64) -> Ieee32 {
    Ieee32::from_bits(bits as u32)
}

macro_rules! ops {
    ($($name:literal [$($input:ident),*] -> $output:ident = |$x:ident, $env:ident| $body:expr;)*) => {
        const OPS: &[Op] = &[$(Op {
            name: $name,
            inputs: &[$(Kind::$input),*],
            output: Kind::$output,
            eval: |$x, $env| {
                let result = $body;
                (result.value.raw(), result.flags)
            },
        }),*];
    };
}

ops! {
    "add" [F32, F32] -> F32 = |x, env| f(x[0]).add(f(x[1]), env);
    "sub" [F32, F32] -> F32 = |x, env| f(x[0]).sub(f(x[1]), env);
    "mul" [F32, F32] -> F32 = |x, env| f(x[0]).mul(f(x[1]), env);
    "div" [F32, F32] -> F32 = |x, env| f(x[0]).div(f(x[1]), env);
    "fma" [F32, F32, F32] -> F32 = |x, env| f(x[0]).fma(f(x[1]), f(x[2]), env);
    "sqrt" [F32] -> F32 = |x, env| f(x[0]).sqrt(env);
    "rem" [F32, F32] -> F32 = |x, env| f(x[0]).rem(f(x[1]), env);
    "round_to_int" [F32] -> F32 = |x, env| f(x[0]).round_to_integral_exact(env);
    "minnum" [F32, F32] -> F32 = |x, env| f(x[0]).min_num(f(x[1]), env);
    "maxnum" [F32, F32] -> F32 = |x, env| f(x[0]).max_num(f(x[1]), env);
    "minimum" [F32, F32] -> F32 = |x, env| f(x[0]).minimum(f(x[1]), env);
    "maximum" [F32, F32] -> F32 = |x, env| f(x[0]).maximum(f(x[1]), env);
    "minimum_number" [F32, F32] -> F32 = |x, env| f(x[0]).minimum_number(f(x[1]), env);
    "maximum_number" [F32, F32] -> F32 = |x, env| f(x[0]).maximum_number(f(x[1]), env);
    "eq" [F32, F32] -> Bool = |x, _env| f(x[0]).eq_quiet(f(x[1]));
    "lt" [F32, F32] -> Bool = |x, _env| f(x[0]).lt_signaling(f(x[1]));
    "le" [F32, F32] -> Bool = |x, _env| f(x[0]).le_signaling(f(x[1]));
    "f32_to_i32" [F32] -> I32 = |x, env| f(x[0]).to_i32(env);
    "f32_to_u32" [F32] -> U32 = |x, env| f(x[0]).to_u32(env);
    "f32_to_i64" [F32] -> I64 = |x, env| f(x[0]).to_i64(env);
    "f32_to_u64" [F32] -> U64 = |x, env| f(x[0]).to_u64(env);
    "i32_to_f32" [I32] -> F32 = |x, env| Ieee32::from_i32(x[0] as u32 as i32, env);
    "u32_to_f32" [U32] -> F32 = |x, env| Ieee32::from_u32(x[0] as u32, env);
    "i64_to_f32" [I64] -> F32 = |x, env| Ieee32::from_i64(x[0] as i64, env);
    "u64_to_f32" [U64] -> F32 = |x, env| Ieee32::from_u64(x[0], env);
    "f64_to_f32" [F64] -> F32 = |x, env| Ieee32::from_f64_bits(x[0], env);
    "f32_to_f64" [F32] -> F64 = |x, env| f(x[0]).to_f64_bits(env);
    "exp" [F32] -> F32 = |x, env| f(x[0]).exp(env);
    "expm1" [F32] -> F32 = |x, env| f(x[0]).expm1(env);
    "log" [F32] -> F32 = |x, env| f(x[0]).log(env);
    "log1p" [F32] -> F32 = |x, env| f(x[0]).log1p(env);
    "tanh" [F32] -> F32 = |x, env| f(x[0]).tanh(env);
    "sigmoid" [F32] -> F32 = |x, env| f(x[0]).sigmoid(env);
    "erf" [F32] -> F32 = |x, env| f(x[0]).erf(env);
    "sin" [F32] -> F32 = |x, env| f(x[0]).sin(env);
    "cos" [F32] -> F32 = |x, env| f(x[0]).cos(env);
}

fn find_op(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

/// Hex bits of at most `kind`'s width, `0x` optional.
fn parse_hex(text: &str, kind: Kind) -> Result<u64, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > kind.hex_digits() {
        return Err(format!(
            "`{text}` is not {} hex digits for a {kind:?} operand",
            kind.hex_digits()
        ));
    }
    u64::from_str_radix(digits, 16).map_err(|_| format!("`{text}` is not a hex number"))
}

/// Evaluates one batch line: `<op> <mode> <operand>…`.
fn eval_line(line: &str, tininess: Tininess, nan: NanPolicy) -> Result<(u64, Kind, Flags), String> {
    let mut words = line.split_ascii_whitespace();
    let name = words.next().ok_or("empty line")?;
    let op = find_op(name).ok_or_else(|| format!("unknown operation `{name}`"))?;
    let mode: RoundingMode = words.next().ok_or("missing rounding mode")?.parse()?;
    let mut operands = [0u64; 3];
    for (slot, &kind) in operands.iter_mut().zip(op.inputs) {
        let word = words
            .next()
            .ok_or_else(|| format!("`{name}` takes {} operands", op.inputs.len()))?;
        *slot = parse_hex(word, kind)?;
    }
    if let Some(extra) = words.next() {
        return Err(format!("unexpected `{extra}` after `{name}`'s operands"));
    }
    let env = FpEnv {
        mode,
        tininess,
        nan,
    };
    let (value, flags) = (op.eval)(&operands[..op.inputs.len()], env);
    Ok((value, op.output, flags))
}

fn eval_lines<R: BufRead, W: Write>(
    mut input: R,
    output: &mut W,
    tininess: Tininess,
    nan: NanPolicy,
) -> Result<(), String> {
    let mut line = String::new();
    let mut number = 0u64;
    let mut malformed = 0u64;
    loop {
        line.clear();
        if input
            .read_line(&mut line)
            .map_err(|e| format!("reading input: {e}"))?
            == 0
        {
            break;
        }
        number += 1;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let written = match eval_line(text, tininess, nan) {
            Ok((value, kind, flags)) => {
                writeln!(
                    output,
                    "{value:0width$x} {flags}",
                    width = kind.hex_digits()
                )
            }
            Err(message) => {
                malformed += 1;
                writeln!(output, "error: line {number}: {message}")
            }
        };
        written.map_err(|e| format!("writing output: {e}"))?;
    }
    if malformed > 0 {
        return Err(format!("{malformed} malformed line(s) in the input"));
    }
    Ok(())
}

/// A binary32 operand of the single-operation form: hex bits or a decimal rounded to nearest.
fn parse_value(text: &str) -> Result<Ieee32, String> {
    if let Some(hex) = text.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16)
            .map(Ieee32::from_bits)
            .map_err(|_| format!("`{text}` is not 8 hex digits of binary32 bits"));
    }
    Ieee32::from_decimal_str(text, FpEnv::DEFAULT)
        .map(|rounded| rounded.value)
        .map_err(|e| format!("`{text}`: {e}"))
}

/// An operand of the single-operation form, by kind: floats as in [`parse_value`] (binary64 as
/// hex bits or a decimal), integers in decimal or `0x` hex.
fn parse_operand(text: &str, kind: Kind) -> Result<u64, String> {
    let integer = |signed: bool| -> Result<u64, String> {
        match text.strip_prefix("0x") {
            Some(_) => parse_hex(text, kind),
            None if signed => text
                .parse::<i64>()
                .map(|v| v as u64)
                .map_err(|e| format!("`{text}`: {e}")),
            None => text.parse::<u64>().map_err(|e| format!("`{text}`: {e}")),
        }
    };
    match kind {
        Kind::F32 => parse_value(text).map(|x| x.to_bits() as u64),
        Kind::F64 => match text.strip_prefix("0x") {
            Some(_) => parse_hex(text, kind),
            None => text
                .parse::<f64>()
                .map(f64::to_bits)
                .map_err(|e| format!("`{text}`: {e}")),
        },
        Kind::I32 | Kind::I64 => integer(true),
        Kind::U32 | Kind::U64 | Kind::Bool => integer(false),
    }
}

/// Describes a result or operand of `kind` given as raw bits.
fn describe(bits: u64, kind: Kind) -> String {
    match kind {
        Kind::F32 => format!("0x{bits:08x}  {}", f(bits).to_shortest_decimal()),
        Kind::F64 => format!("0x{bits:016x}  {:e}", f64::from_bits(bits)),
        Kind::I32 => format!("0x{bits:08x}  {}", bits as u32 as i32),
        Kind::U32 => format!("0x{bits:08x}  {}", bits as u32),
        Kind::I64 => format!("0x{bits:016x}  {}", bits as i64),
        Kind::U64 => format!("0x{bits:016x}  {bits}"),
        Kind::Bool => (if bits == 1 { "true" } else { "false" }).to_string(),
    }
}

fn flag_names(flags: Flags) -> String {
    let names = [
        (Flags::INEXACT, "inexact"),
        (Flags::UNDERFLOW, "underflow"),
        (Flags::OVERFLOW, "overflow"),
        (Flags::DIV_BY_ZERO, "divide-by-zero"),
        (Flags::INVALID, "invalid"),
    ];
    let raised: Vec<&str> = names
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, name)| *name)
        .collect();
    if raised.is_empty() {
        "none".to_string()
    } else {
        raised.join(", ")
    }
}

fn show_op<W: Write>(op: &Op, words: &[String], env: FpEnv, output: &mut W) -> Result<(), String> {
    if words.len() != op.inputs.len() {
        return Err(format!(
            "`{}` takes {} operand(s), got {}",
            op.name,
            op.inputs.len(),
            words.len()
        ));
    }
    let operands = words
        .iter()
        .zip(op.inputs)
        .map(|(word, &kind)| parse_operand(word, kind))
        .collect::<Result<Vec<u64>, String>>()?;
    let (value, flags) = (op.eval)(&operands, env);
    let mut text = format!(
        "{} {} (tininess {:?}, NaN {:?})\n",
        op.name, env.mode, env.tininess, env.nan
    );
    for (i, (&bits, &kind)) in operands.iter().zip(op.inputs).enumerate() {
        text += &format!("  operand {}  {}\n", i + 1, describe(bits, kind));
    }
    text += &format!("  result     {}\n", describe(value, op.output));
    text += &format!("  flags      {flags} ({})\n", flag_names(flags));
    output
        .write_all(text.as_bytes())
        .map_err(|e| format!("writing output: {e}"))
}

/// `strata float check-exhaustive <fn>`.
fn check_exhaustive<W: Write>(args: &FloatArgs, name: &str, output: &mut W) -> Result<(), String> {
    use crate::exhaustive::{native_fn, Run, CHUNKS};
    let function: crate::oracle::Function = name.parse()?;
    let modes: Vec<RoundingMode> = match args.mode {
        Some(mode) => vec![mode],
        None => RoundingMode::ALL.to_vec(),
    };
    let chunks = match &args.chunks {
        None => 0..CHUNKS,
        Some(text) => {
            let bad = || format!("--chunks `{text}`: expected START..END within 0..{CHUNKS}");
            let (a, b) = text.split_once("..").ok_or_else(bad)?;
            let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a >= b || b > CHUNKS {
                return Err(bad());
            }
            a..b
        }
    };
    let mode_names: Vec<&str> = modes.iter().map(|m| m.short_name()).collect();
    let state = args.state.clone().unwrap_or_else(|| {
        format!("check-exhaustive-{function}-{}.state", mode_names.join("-")).into()
    });
    let run = Run {
        function,
        modes: modes.clone(),
        chunks: chunks.clone(),
        state: state.clone(),
        progress: true,
    };
    let outcome = match args.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| format!("thread pool: {e}"))?
            .install(|| run.execute()),
        None => run.execute(),
    }?;
    let t = &outcome.tally;
    let io = |e: std::io::Error| format!("writing output: {e}");
    let (_, native_name) = native_fn(function);
    let mut text = format!(
        "check-exhaustive {function}, modes {}, chunks {}..{} ({} inputs; {} chunks resumed from {})\n",
        mode_names.join(" "),
        chunks.start,
        chunks.end,
        t.inputs,
        outcome.resumed,
        state.display()
    );
    text += &format!("mismatches: {}\n", t.mismatches);
    for m in &t.first {
        text += &format!("  {m}\n");
    }
    text += &format!("oracle undecided: {}\n", t.undecided.len());
    for u in &t.undecided {
        text += &format!("  x = 0x{u:08x}\n");
    }
    text += &format!(
        "native {native_name} (vs ties-to-even): {} incorrectly rounded, max error {:.4} ulp at x = 0x{:08x}\n",
        t.native_wrong, t.native_max_ulps, t.native_max_at
    );
    text += &format!("wall time: {:.1} s (this invocation)\n", outcome.seconds);
    output.write_all(text.as_bytes()).map_err(io)?;
    if t.mismatches > 0 || !t.undecided.is_empty() {
        return Err(format!(
            "{function}: {} mismatches, {} undecided inputs",
            t.mismatches,
            t.undecided.len()
        ));
    }
    Ok(())
}

/// 2^exp as binary32 (every ulp of a binary32 value is one).
fn power_of_two(exp: i32) -> Ieee32 {
    if exp >= -126 {
        Ieee32::from_bits(((exp + 127) as u32) << 23)
    } else {
        Ieee32::from_bits(1 << (exp + 149))
    }
}

fn inspect<W: Write>(text: &str, value: Ieee32, output: &mut W) -> std::io::Result<()> {
    let bits = value.to_bits();
    let field = value.exponent_field();
    let unbiased = match field {
        0 => "subnormal: 2^-126 scale".to_string(),
        0xff => "all ones: infinity or NaN".to_string(),
        _ => format!("unbiased {}", field as i32 - 127),
    };
    writeln!(output, "input      {text}")?;
    writeln!(output, "bits       0x{bits:08x}")?;
    writeln!(output, "sign       {}", bits >> 31)?;
    writeln!(output, "exponent   0x{field:02x} = {field} ({unbiased})")?;
    writeln!(output, "fraction   0x{:06x}", value.fraction_field())?;
    writeln!(output, "class      {}", value.class())?;
    writeln!(output, "exact      {}", value.to_exact_decimal())?;
    writeln!(output, "shortest   {}", value.to_shortest_decimal())?;
    if let Some(exp) = value.ulp_exponent() {
        writeln!(
            output,
            "ulp        2^{exp} = {}",
            power_of_two(exp).to_exact_decimal()
        )?;
    }
    for (name, neighbour) in [
        ("next down ", value.next_down(FpEnv::DEFAULT).value),
        ("next up   ", value.next_up(FpEnv::DEFAULT).value),
    ] {
        writeln!(
            output,
            "{name} {}",
            describe(neighbour.to_bits() as u64, Kind::F32)
        )?;
    }
    if !text.starts_with("0x") {
        writeln!(output, "rounding of {text}:")?;
        for mode in RoundingMode::ALL {
            // The text parsed once already, so it parses in every mode.
            if let Ok(rounded) = Ieee32::from_decimal_str(text, FpEnv::with_mode(mode)) {
                let shown = describe(rounded.value.to_bits() as u64, Kind::F32);
                writeln!(output, "  {mode}  {shown}  {}", rounded.flags)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        float: FloatArgs,
    }

    fn run_text(args: &[&str], input: &str) -> (String, Result<(), String>) {
        let cli = Cli::try_parse_from(std::iter::once("float").chain(args.iter().copied()))
            .expect("valid arguments");
        let mut output = Vec::new();
        let result = run_with(&cli.float, input.as_bytes(), &mut output);
        (String::from_utf8(output).expect("utf-8 output"), result)
    }

    /// Expected lines are native f32 results (and SoftFloat-style flags from float-notes.md).
    #[test]
    fn eval_prints_results_and_flags_and_reports_bad_lines() {
        let one_third = (1.0f32 / 3.0).to_bits();
        let input = "add rne 3f800000 3f800000\n\
             div rne 3f800000 40400000\n\
             \n\
             # comment\n\
             div rne 3f800000 00000000\n\
             mul rup 00000001 00000001\n\
             frobnicate rne 1 2\n\
             sqrt rne bf800000\n\
             lt rne 3f800000 40000000\n\
             f32_to_i32 rtz 4f32d05e\n\
             u64_to_f32 rne 8000008000000001\n\
             add xyz 0 0\n\
             add rne 3f800000\n\
             f32_to_f64 rne 3dcccccd\n";
        let (output, result) = run_text(&["eval"], input);
        let expected = format!(
            "{:08x} -\n{one_third:08x} x\n7f800000 z\n00000001 xu\nerror: line 7: unknown operation `frobnicate`\n\
             ffc00000 i\n1 -\n80000000 i\n5f000001 x\nerror: line 12: unknown rounding mode `xyz` (expected rne, rna, rtz, rup or rdn)\n\
             error: line 13: `add` takes 2 operands\n{:016x} -\n",
            2.0f32.to_bits(),
            (f32::from_bits(0x3dcc_cccd) as f64).to_bits()
        );
        assert_eq!(output, expected);
        assert_eq!(result, Err("3 malformed line(s) in the input".to_string()));
    }

    #[test]
    fn eval_selects_tininess_and_nan_conventions() {
        let input = "mul rne 1f800001 207ffffe\nadd rne 7f800001 3f800000\n";
        let (output, _) = run_text(
            &["eval", "--tininess", "before", "--nan", "canonical"],
            input,
        );
        assert_eq!(output, "00800000 xu\n7fc00000 i\n");
        let (output, _) = run_text(&["eval"], input);
        assert_eq!(output, "00800000 x\n7fc00001 i\n");
    }

    #[test]
    fn inspect_shows_fields_exact_value_neighbours_and_roundings() {
        let (output, result) = run_text(&["0.1"], "");
        assert!(result.is_ok());
        for expected in [
            "bits       0x3dcccccd",
            "exponent   0x7b = 123 (unbiased -4)",
            "class      positive normal",
            "exact      0.100000001490116119384765625",
            "ulp        2^-27 = 0.000000007450580596923828125",
            "next down  0x3dcccccc  9.9999994e-2",
            "rdn  0x3dcccccc  9.9999994e-2  x",
            "rup  0x3dcccccd  1e-1  x",
        ] {
            assert!(
                output.contains(expected),
                "missing `{expected}` in\n{output}"
            );
        }
        let (output, _) = run_text(&["0x00000001"], "");
        assert!(output.contains("class      positive subnormal"), "{output}");
        assert!(output.contains(&format!(
            "exact      {}",
            &format!("{:.149}", f32::from_bits(1) as f64)
        )));
    }

    #[test]
    fn single_operation_in_a_mode() {
        let (output, result) = run_text(&["add", "0x3f800000", "0x33800000", "--mode", "down"], "");
        assert!(result.is_ok());
        assert!(output.contains("result     0x3f800000  1e0"), "{output}");
        assert!(output.contains("flags      x (inexact)"), "{output}");
        let (output, _) = run_text(&["add", "1", "5.9604645e-8", "--mode", "up"], "");
        assert!(output.contains("result     0x3f800001"), "{output}");
    }

    #[test]
    fn transcendental_operations() {
        let (output, result) = run_text(&["exp", "1", "--mode", "up"], "");
        assert!(result.is_ok(), "{output}");
        // e = 2.71828182845…: 0x402df854 is below it, 0x402df855 above.
        assert!(output.contains("result     0x402df855"), "{output}");
        assert!(output.contains("flags      x (inexact)"), "{output}");
        let (output, _) = run_text(
            &["eval"],
            "log rne 00000000\nsin rne 7f800000\ncos rne 80000000\n",
        );
        assert_eq!(output, "ff800000 z\nffc00000 i\n3f800000 -\n");
    }

    #[test]
    fn check_exhaustive_runs_a_chunk_range_and_reports() {
        let state =
            std::env::temp_dir().join(format!("strata-cli-check-{}.state", std::process::id()));
        let _ = std::fs::remove_file(&state);
        let state_arg = state.to_string_lossy().to_string();
        let args = [
            "check-exhaustive",
            "sigmoid",
            "--mode",
            "rdn",
            "--chunks",
            "1016..1017",
            "--state",
            &state_arg,
        ];
        let (output, result) = run_text(&args, "");
        assert!(result.is_ok(), "{output}");
        assert!(
            output.contains("(1048576 inputs; 0 chunks resumed"),
            "{output}"
        );
        assert!(output.contains("mismatches: 0\n"), "{output}");
        assert!(output.contains("oracle undecided: 0\n"), "{output}");
        assert!(output.contains("native 1/(1+(-x).exp())"), "{output}");
        let (output, _) = run_text(&args, "");
        assert!(output.contains("1 chunks resumed"), "{output}");
        let _ = std::fs::remove_file(&state);
        for bad in [
            &["check-exhaustive", "gamma"][..],
            &["check-exhaustive", "exp", "--chunks", "5..2"],
        ] {
            let (_, result) = run_text(bad, "");
            assert!(result.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for args in [
            &["0x1g"][..],
            &["1.2.3"],
            &["add", "1"],
            &["add", "x", "1"],
            &["sqrt", "-"],
        ] {
            let (output, result) = run_text(args, "");
            assert!(result.is_err(), "{args:?}: {output}");
        }
    }
}
