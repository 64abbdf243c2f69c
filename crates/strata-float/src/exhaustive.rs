//! The exhaustive check of the correctly rounded transcendentals: every binary32 input of one
//! function, `Ieee32` against the independent [`oracle`](crate::oracle) in the chosen rounding
//! modes (result bits and flags, under tininess after rounding and x86 NaNs), and the platform's
//! native `f32` function measured against the same oracle (incorrectly rounded results and the
//! largest error in ulps). `strata float check-exhaustive` runs it in parallel, in chunks of
//! 2^20 inputs, recording each finished chunk in a small state file so that an interrupted run
//! resumes where it stopped.

use crate::env::{Flagged, Flags, FpEnv, RoundingMode};
use crate::ieee32::Ieee32;
use crate::oracle::{decide, Decision, Function};
use std::fmt::Write as _;
use std::io::Write as _;

/// `Ieee32`'s method for a function.
pub fn ieee32_fn(f: Function) -> fn(Ieee32, FpEnv) -> Flagged<Ieee32> {
    match f {
        Function::Exp => Ieee32::exp,
        Function::Expm1 => Ieee32::expm1,
        Function::Log => Ieee32::log,
        Function::Log1p => Ieee32::log1p,
        Function::Tanh => Ieee32::tanh,
        Function::Sigmoid => Ieee32::sigmoid,
        Function::Erf => Ieee32::erf,
        Function::Sin => Ieee32::sin,
        Function::Cos => Ieee32::cos,
    }
}

fn native_sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// What a Rust user calls for the function in `f32`, and how it is described: `f32::exp` etc.
/// (the platform libm), `1/(1+(-x).exp())` for sigmoid, and the `libm` crate's `erff` (std has no
/// erf).
pub fn native_fn(f: Function) -> (fn(f32) -> f32, &'static str) {
    match f {
        Function::Exp => (f32::exp, "f32::exp"),
        Function::Expm1 => (f32::exp_m1, "f32::exp_m1"),
        Function::Log => (f32::ln, "f32::ln"),
        Function::Log1p => (f32::ln_1p, "f32::ln_1p"),
        Function::Tanh => (f32::tanh, "f32::tanh"),
        Function::Sigmoid => (native_sigmoid, "1/(1+(-x).exp())"),
        Function::Erf => (libm::erff, "libm::erff"),
        Function::Sin => (f32::sin, "f32::sin"),
        Function::Cos => (f32::cos, "f32::cos"),
    }
}

/// One disagreement between `Ieee32` and the oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub input: u32,
    pub mode: RoundingMode,
    pub ours: (u32, Flags),
    pub oracle: (u32, Flags),
}

impl Mismatch {
    fn encode(&self) -> String {
        format!(
            "{:08x}:{}:{:08x}:{}:{:08x}:{}",
            self.input,
            self.mode,
            self.ours.0,
            self.ours.1.bits(),
            self.oracle.0,
            self.oracle.1.bits()
        )
    }

    fn decode(text: &str) -> Option<Mismatch> {
        let parts: Vec<&str> = text.split(':').collect();
        let [input, mode, ours, ours_flags, oracle, oracle_flags] = parts.as_slice() else {
            return None;
        };
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        let flags = |s: &str| s.parse::<u8>().ok().map(Flags::from_bits);
        Some(Mismatch {
            input: hex(input)?,
            mode: mode.parse().ok()?,
            ours: (hex(ours)?, flags(ours_flags)?),
            oracle: (hex(oracle)?, flags(oracle_flags)?),
        })
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "x = 0x{:08x} ({:e}) {}: Ieee32 0x{:08x} {} , oracle 0x{:08x} {}",
            self.input,
            f32::from_bits(self.input),
            self.mode,
            self.ours.0,
            self.ours.1,
            self.oracle.0,
            self.oracle.1
        )
    }
}

/// The tally of a range of inputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub inputs: u64,
    pub mismatches: u64,
    /// The first (lowest-input) mismatches, at most [`Tally::KEEP`].
    pub first: Vec<Mismatch>,
    /// Inputs that the oracle could not decide (reported, never expected).
    pub undecided: Vec<u32>,
    /// Native results that differ from the correctly rounded (ties-to-even) one.
    pub native_wrong: u64,
    /// The largest native error in ulps of the exact value, and an input where it occurs.
    pub native_max_ulps: f64,
    pub native_max_at: u32,
}

impl Tally {
    pub const KEEP: usize = 10;

    /// Adds another tally of inputs above this one's.
    pub fn merge(&mut self, other: &Tally) {
        self.inputs += other.inputs;
        self.mismatches += other.mismatches;
        self.first.extend(other.first.iter().copied());
        self.first.sort_by_key(|m| m.input);
        self.first.truncate(Tally::KEEP);
        self.undecided.extend(other.undecided.iter().copied());
        self.undecided.sort_unstable();
        self.undecided.truncate(Tally::KEEP);
        self.native_wrong += other.native_wrong;
        if other.native_max_ulps > self.native_max_ulps
            || (other.native_max_ulps == self.native_max_ulps
                && other.native_max_at < self.native_max_at)
        {
            self.native_max_ulps = other.native_max_ulps;
            self.native_max_at = other.native_max_at;
        }
    }
}

/// ulp of a real value on the binary32 grid (2^-149 below the normal range, 2^104 at and above
/// 2^127, so values beyond the range still get a finite error).
fn ulp_of(v: f64) -> f64 {
    let a = v.abs();
    if a < f64::MIN_POSITIVE {
        return 2f64.powi(-149);
    }
    let binade = ((a.to_bits() >> 52) as i32 - 1023).clamp(-126, 127);
    2f64.powi(binade - 23)
}

/// The native error in ulps (0 when it equals the correctly rounded result).
fn native_error(native: f32, decision: &Decision, rne_bits: u32) -> f64 {
    let rne = f32::from_bits(rne_bits);
    if native.to_bits() == rne_bits || (native.is_nan() && rne.is_nan()) {
        return 0.0;
    }
    if native.is_nan() || rne.is_nan() || decision.value.is_nan() {
        return f64::INFINITY;
    }
    let exact = decision.value;
    let n = native as f64;
    if exact.is_infinite() {
        // Beyond 2^128: the error from 2^128 is a lower bound.
        if n.is_infinite() && n.signum() == exact.signum() {
            return 0.0;
        }
        return ((2f64.powi(128) - n.abs()) / 2f64.powi(104)).max(0.5);
    }
    if n.is_infinite() {
        return ((2f64.powi(128) - exact.abs()) / 2f64.powi(104)).max(0.5);
    }
    (n - exact).abs() / ulp_of(exact)
}

/// Checks the inputs `start..start+count` (bit patterns) in the given modes.
pub fn check_range(f: Function, modes: &[RoundingMode], start: u32, count: u32) -> Tally {
    let ours = ieee32_fn(f);
    let (native, _) = native_fn(f);
    let mut tally = Tally::default();
    for offset in 0..count {
        let x = start.wrapping_add(offset);
        tally.inputs += 1;
        let Some(decision) = decide(f, x) else {
            if tally.undecided.len() < Tally::KEEP {
                tally.undecided.push(x);
            }
            continue;
        };
        for &mode in modes {
            let expected = decision.in_mode(mode);
            let got = ours(Ieee32::from_bits(x), FpEnv::with_mode(mode));
            let got = (got.value.to_bits(), got.flags);
            if got != expected {
                tally.mismatches += 1;
                if tally.first.len() < Tally::KEEP {
                    tally.first.push(Mismatch {
                        input: x,
                        mode,
                        ours: got,
                        oracle: expected,
                    });
                }
            }
        }
        let rne = decision.in_mode(RoundingMode::NearestEven).0;
        let error = native_error(native(f32::from_bits(x)), &decision, rne);
        if error > 0.0 {
            tally.native_wrong += 1;
            if error > tally.native_max_ulps {
                tally.native_max_ulps = error;
                tally.native_max_at = x;
            }
        }
    }
    tally
}

/// Inputs per chunk of the state file: 2^20, so 4096 chunks.
pub const CHUNK_BITS: u32 = 20;
pub const CHUNKS: u32 = 1 << (32 - CHUNK_BITS);

/// The state file's first line for a run.
fn header(f: Function, modes: &[RoundingMode]) -> String {
    let modes: Vec<&str> = modes.iter().map(|m| m.short_name()).collect();
    format!(
        "# strata float check-exhaustive v1 function={} modes={} chunk_bits={CHUNK_BITS}",
        f,
        modes.join(",")
    )
}

fn chunk_line(index: u32, t: &Tally) -> String {
    let mut line = format!(
        "chunk {index} inputs {} mismatches {} native_wrong {} native_max_ulps {:e} native_max_at {:08x}",
        t.inputs, t.mismatches, t.native_wrong, t.native_max_ulps, t.native_max_at
    );
    for m in &t.first {
        let _ = write!(line, " m={}", m.encode());
    }
    for u in &t.undecided {
        let _ = write!(line, " u={u:08x}");
    }
    line
}

fn parse_chunk_line(line: &str) -> Option<(u32, Tally)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 12 || words[0] != "chunk" {
        return None;
    }
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
    let mut tally = Tally {
        inputs: number(3)?,
        mismatches: number(5)?,
        native_wrong: number(7)?,
        native_max_ulps: words[9].parse().ok()?,
        native_max_at: u32::from_str_radix(words[11], 16).ok()?,
        ..Tally::default()
    };
    for word in &words[12..] {
        if let Some(m) = word.strip_prefix("m=") {
            tally.first.push(Mismatch::decode(m)?);
        } else if let Some(u) = word.strip_prefix("u=") {
            tally.undecided.push(u32::from_str_radix(u, 16).ok()?);
        }
    }
    Some((words[1].parse().ok()?, tally))
}

/// The chunks already recorded in a state file (an unreadable last line, from an interrupted
/// write, is ignored). A state file for another function or other modes is an error.
pub fn read_state(
    path: &std::path::Path,
    f: Function,
    modes: &[RoundingMode],
) -> Result<Vec<(u32, Tally)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let mut lines = text.lines();
    match lines.next() {
        Some(first) if first == header(f, modes) => {}
        Some(first) => {
            return Err(format!(
                "{} belongs to another run (`{first}`); remove it or pass another --state",
                path.display()
            ))
        }
        None => return Ok(Vec::new()),
    }
    Ok(lines.filter_map(parse_chunk_line).collect())
}

/// A run over the chunks `chunks` (of 2^20 inputs each) with a state file.
pub struct Run {
    pub function: Function,
    pub modes: Vec<RoundingMode>,
    pub chunks: std::ops::Range<u32>,
    pub state: std::path::PathBuf,
    pub progress: bool,
}

/// The outcome: the tally over all the requested chunks (including those resumed from the state
/// file), how many were resumed, and the wall time of this invocation.
pub struct Outcome {
    pub tally: Tally,
    pub resumed: u32,
    pub seconds: f64,
}

impl Run {
    pub fn execute(&self) -> Result<Outcome, String> {
        use rayon::prelude::*;
        let started = std::time::Instant::now();
        let done = read_state(&self.state, self.function, &self.modes)?;
        let mut have = vec![false; CHUNKS as usize];
        let mut tally = Tally::default();
        let mut resumed = 0;
        for (index, t) in &done {
            if self.chunks.contains(index) && !have[*index as usize] {
                have[*index as usize] = true;
                tally.merge(t);
                resumed += 1;
            }
        }
        let todo: Vec<u32> = self.chunks.clone().filter(|&i| !have[i as usize]).collect();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.state)
            .map_err(|e| format!("opening {}: {e}", self.state.display()))?;
        if done.is_empty() && file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            writeln!(&file, "{}", header(self.function, &self.modes))
                .map_err(|e| format!("writing {}: {e}", self.state.display()))?;
        }
        let file = std::sync::Mutex::new(file);
        let bar = if self.progress {
            let bar = indicatif::ProgressBar::new(todo.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks, eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(format!("{}", self.function));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let results: Result<Vec<Tally>, String> = todo
            .par_iter()
            .map(|&index| {
                let t = check_range(
                    self.function,
                    &self.modes,
                    index << CHUNK_BITS,
                    1 << CHUNK_BITS,
                );
                let line = chunk_line(index, &t);
                let mut file = file
                    .lock()
                    .map_err(|_| "state file lock poisoned".to_string())?;
                writeln!(file, "{line}")
                    .and_then(|_| file.flush())
                    .map_err(|e| format!("writing {}: {e}", self.state.display()))?;
                bar.inc(1);
                Ok(t)
            })
            .collect();
        bar.finish_and_clear();
        for t in &results? {
            tally.merge(t);
        }
        Ok(Outcome {
            tally,
            resumed,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
