//! The floating-point environment: rounding mode, tininess rule, NaN policy, and exception flags.
//!
//! Operations never read hidden global state: each takes an [`FpEnv`] and returns its value together
//! with the [`Flags`] it raised, as a [`Flagged`].

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

/// The five IEEE 754 rounding-direction attributes (names follow Flocq's `mode_NE/NA/ZR/UP/DN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RoundingMode {
    /// roundTiesToEven (the default).
    #[default]
    NearestEven,
    /// roundTiesToAway.
    NearestAway,
    /// roundTowardZero.
    TowardZero,
    /// roundTowardPositive.
    TowardPos,
    /// roundTowardNegative.
    TowardNeg,
}

impl RoundingMode {
    /// Every mode, in the order of the CLI names `rne rna rtz rup rdn`.
    pub const ALL: [RoundingMode; 5] = [
        RoundingMode::NearestEven,
        RoundingMode::NearestAway,
        RoundingMode::TowardZero,
        RoundingMode::TowardPos,
        RoundingMode::TowardNeg,
    ];

    /// The short name used by the CLI and in test output.
    pub fn short_name(self) -> &'static str {
        match self {
            RoundingMode::NearestEven => "rne",
            RoundingMode::NearestAway => "rna",
            RoundingMode::TowardZero => "rtz",
            RoundingMode::TowardPos => "rup",
            RoundingMode::TowardNeg => "rdn",
        }
    }

    /// Whether an inexact value of this sign rounds away from zero (up in magnitude), given how
    /// the discarded part compares with half a quantum and whether the truncated magnitude is odd.
    pub(crate) fn rounds_away(self, negative: bool, half: HalfCmp, odd: bool) -> bool {
        match self {
            RoundingMode::NearestEven => half == HalfCmp::Above || (half == HalfCmp::Equal && odd),
            RoundingMode::NearestAway => half != HalfCmp::Below,
            RoundingMode::TowardZero => false,
            RoundingMode::TowardPos => !negative,
            RoundingMode::TowardNeg => negative,
        }
    }

    /// Whether an overflowing result of this sign becomes infinity (otherwise the largest finite).
    pub(crate) fn overflows_to_infinity(self, negative: bool) -> bool {
        match self {
            RoundingMode::NearestEven | RoundingMode::NearestAway => true,
            RoundingMode::TowardZero => false,
            RoundingMode::TowardPos => !negative,
            RoundingMode::TowardNeg => negative,
        }
    }
}

/// How a nonzero discarded remainder compares with half a quantum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HalfCmp {
    Below,
    Equal,
    Above,
}

impl FromStr for RoundingMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RoundingMode::ALL
            .into_iter()
            .find(|m| m.short_name() == s)
            .ok_or_else(|| {
                format!("unknown rounding mode `{s}` (expected rne, rna, rtz, rup or rdn)")
            })
    }
}

impl fmt::Display for RoundingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// When a result counts as tiny for the underflow flag (IEEE 754 leaves this to the implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Tininess {
    /// Tiny if the result rounded with unbounded exponent is below 2^-126 (x86 SSE, RISC-V, MPFR).
    #[default]
    AfterRounding,
    /// Tiny if the exact result is below 2^-126 (ARM, the IBM FPgen suite).
    BeforeRounding,
}

/// Which NaN an operation returns when its result is NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NanPolicy {
    /// x86-64 SSE: the first NaN operand, quieted (payload and sign kept); an invalid operation
    /// with no NaN operand gives the default NaN 0xFFC00000.
    #[default]
    X86Sse,
    /// Every NaN result is the canonical quiet NaN 0x7FC00000 (RISC-V).
    Canonical,
}

/// The environment an operation runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FpEnv {
    pub mode: RoundingMode,
    pub tininess: Tininess,
    pub nan: NanPolicy,
}

impl FpEnv {
    /// Ties-to-even, tininess after rounding, x86 NaN propagation.
    pub const DEFAULT: FpEnv = FpEnv {
        mode: RoundingMode::NearestEven,
        tininess: Tininess::AfterRounding,
        nan: NanPolicy::X86Sse,
    };

    /// The default environment with another rounding mode.
    pub const fn with_mode(mode: RoundingMode) -> FpEnv {
        FpEnv {
            mode,
            ..FpEnv::DEFAULT
        }
    }
}

/// The five IEEE 754 exception flags, as a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const INEXACT: Flags = Flags(1);
    pub const UNDERFLOW: Flags = Flags(2);
    pub const OVERFLOW: Flags = Flags(4);
    pub const DIV_BY_ZERO: Flags = Flags(8);
    pub const INVALID: Flags = Flags(16);

    /// Flag and CLI letter, in the CLI's printing order.
    const LETTERS: [(Flags, char); 5] = [
        (Flags::INEXACT, 'x'),
        (Flags::UNDERFLOW, 'u'),
        (Flags::OVERFLOW, 'o'),
        (Flags::DIV_BY_ZERO, 'z'),
        (Flags::INVALID, 'i'),
    ];

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bit set: bit 0 inexact, 1 underflow, 2 overflow, 3 divide-by-zero, 4 invalid
    /// (the order of Berkeley SoftFloat's `softfloat_flag_*`).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Builds a set from [`Flags::bits`]; unknown bits are dropped.
    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits & 0x1f)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// Letters `x u o z i` for the raised flags, or `-` when none.
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        for (flag, letter) in Flags::LETTERS {
            if self.contains(flag) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// A value with the exception flags its computation raised (like rustc_apfloat's `StatusAnd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flagged<T> {
    pub value: T,
    pub flags: Flags,
}

impl<T> Flagged<T> {
    pub const fn new(value: T, flags: Flags) -> Self {
        Flagged { value, flags }
    }

    pub const fn exact(value: T) -> Self {
        Flagged {
            value,
            flags: Flags::NONE,
        }
    }

    /// Applies `f` to the value, keeping the flags.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Flagged<U> {
        Flagged {
            value: f(self.value),
            flags: self.flags,
        }
    }
}
