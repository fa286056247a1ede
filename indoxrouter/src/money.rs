//! Exact money: US dollars as an integer count of pico-dollars.
//!
//! Every price in the catalog is a whole number of pico-dollars (10^-12 USD)
//! per token or per image, so costs computed in this unit are exact. Floats are
//! never used; amounts become decimal strings only at the edges (JSON, display).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Pico-dollars in one dollar.
const PICO_PER_USD: i128 = 1_000_000_000_000;
/// Digits after the decimal point that `Usd` can hold exactly.
const FRACTION_DIGITS: usize = 12;

/// An exact amount of US dollars, stored as pico-dollars (10^-12 USD) in an `i128`.
///
/// The range (about ±1.7 × 10^26 USD) is far beyond any real amount, so the
/// operators saturate instead of panicking: `a + b`, `a - b` and `sum()` clamp
/// at [`Usd::MIN`] / [`Usd::MAX`]. Use the `checked_*` methods where an
/// overflow must be detected.
///
/// `Display` and serde use the minimal exact decimal form (`"0.00001425"`,
/// `"40"`, `"-1.5"`), never exponent notation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(i128);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(0);
    /// The largest representable amount.
    pub const MAX: Usd = Usd(i128::MAX);
    /// The smallest (most negative) representable amount.
    pub const MIN: Usd = Usd(i128::MIN);

    /// An amount of `pico` pico-dollars (10^-12 USD).
    pub const fn from_pico(pico: i128) -> Self {
        Usd(pico)
    }

    /// The amount in pico-dollars.
    pub const fn pico(self) -> i128 {
        self.0
    }

    /// A whole number of dollars.
    pub const fn from_dollars(dollars: i64) -> Self {
        // i64 × 10^12 always fits in i128.
        Usd(dollars as i128 * PICO_PER_USD)
    }

    /// Parses a plain decimal string: optional `-`, digits, optionally `.` and
    /// 1 to 12 fraction digits (`"0.00001425"`, `"-3"`, `"12.5"`).
    ///
    /// Rejects empty input, a leading `+`, exponents, missing digits on either
    /// side of the point, more than 12 fraction digits (not exact in this unit)
    /// and values outside the `i128` range.
    pub fn parse(s: &str) -> Result<Usd, ParseUsdError> {
        let err = |kind| Err(ParseUsdError { kind });
        if s.is_empty() {
            return err(ParseUsdErrorKind::Empty);
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        if int_part.is_empty() || frac_part.is_some_and(str::is_empty) {
            return err(ParseUsdErrorKind::MissingDigits);
        }
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !frac_part.is_none_or(all_digits) {
            return err(ParseUsdErrorKind::InvalidCharacter);
        }
        let frac = frac_part.unwrap_or("");
        if frac.len() > FRACTION_DIGITS {
            return err(ParseUsdErrorKind::TooManyFractionDigits);
        }

        // Accumulate as a negative number when needed so i128::MIN parses too.
        let sign: i128 = if negative { -1 } else { 1 };
        let mut pico: i128 = 0;
        let digits = int_part
            .bytes()
            .chain(frac.bytes())
            .chain(std::iter::repeat_n(b'0', FRACTION_DIGITS - frac.len()));
        for b in digits {
            let d = i128::from(b - b'0') * sign;
            pico = match pico.checked_mul(10).and_then(|p| p.checked_add(d)) {
                Some(p) => p,
                None => return err(ParseUsdErrorKind::Overflow),
            };
        }
        Ok(Usd(pico))
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Usd) -> Option<Usd> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Usd(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` on overflow.
    pub const fn checked_sub(self, rhs: Usd) -> Option<Usd> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Usd(v)),
            None => None,
        }
    }

    /// `self × n`, or `None` on overflow.
    pub const fn checked_mul(self, n: u64) -> Option<Usd> {
        match self.0.checked_mul(n as i128) {
            Some(v) => Some(Usd(v)),
            None => None,
        }
    }

    /// `self + rhs`, clamped to [`Usd::MIN`]..=[`Usd::MAX`].
    pub const fn saturating_add(self, rhs: Usd) -> Usd {
        Usd(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, clamped to [`Usd::MIN`]..=[`Usd::MAX`].
    pub const fn saturating_sub(self, rhs: Usd) -> Usd {
        Usd(self.0.saturating_sub(rhs.0))
    }

    /// `self × n`, clamped to [`Usd::MIN`]..=[`Usd::MAX`].
    pub const fn saturating_mul(self, n: u64) -> Usd {
        Usd(self.0.saturating_mul(n as i128))
    }

    /// True if the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True if the amount is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The absolute value, or `None` for [`Usd::MIN`].
    pub const fn checked_abs(self) -> Option<Usd> {
        match self.0.checked_abs() {
            Some(v) => Some(Usd(v)),
            None => None,
        }
    }
}

impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // unsigned_abs: i128::MIN has no positive i128 counterpart.
        let abs = self.0.unsigned_abs();
        let scale = PICO_PER_USD.unsigned_abs();
        let int = abs / scale;
        let frac = abs % scale;
        if self.0 < 0 {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if frac != 0 {
            let digits = format!("{frac:012}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            // Format the magnitude via Display's rules without a second sign.
            let s = self.to_string();
            write!(f, "-${}", s.trim_start_matches('-'))
        } else {
            write!(f, "${self}")
        }
    }
}

impl FromStr for Usd {
    type Err = ParseUsdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Usd::parse(s)
    }
}

impl Add for Usd {
    type Output = Usd;

    /// Saturating addition (see the type docs).
    fn add(self, rhs: Usd) -> Usd {
        self.saturating_add(rhs)
    }
}

impl Sub for Usd {
    type Output = Usd;

    /// Saturating subtraction (see the type docs).
    fn sub(self, rhs: Usd) -> Usd {
        self.saturating_sub(rhs)
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, rhs: Usd) {
        *self = self.saturating_add(rhs);
    }
}

impl SubAssign for Usd {
    fn sub_assign(&mut self, rhs: Usd) {
        *self = self.saturating_sub(rhs);
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Usd::saturating_add)
    }
}

impl<'a> Sum<&'a Usd> for Usd {
    fn sum<I: Iterator<Item = &'a Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, |a, b| a.saturating_add(*b))
    }
}

impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Usd {
    /// Accepts only the decimal string form: a JSON number may already have
    /// been rounded through a float by the time it reaches us.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UsdVisitor;

        impl Visitor<'_> for UsdVisitor {
            type Value = Usd;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string of US dollars such as \"0.00001425\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Usd, E> {
                Usd::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(UsdVisitor)
    }
}

/// Why a string is not a valid [`Usd`] amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseUsdErrorKind {
    /// The string is empty.
    Empty,
    /// No digits before or after the decimal point (`"."`, `".5"`, `"5."`, `"-"`).
    MissingDigits,
    /// Something other than digits, one leading `-` and one `.` (e.g. `+`, `e`, spaces).
    InvalidCharacter,
    /// More than 12 digits after the decimal point.
    TooManyFractionDigits,
    /// The value does not fit in the `i128` pico-dollar range.
    Overflow,
}

/// Error returned by [`Usd::parse`]; the message never echoes the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid USD amount: {}", self.describe())]
pub struct ParseUsdError {
    kind: ParseUsdErrorKind,
}

impl ParseUsdError {
    /// What was wrong with the input.
    pub fn kind(&self) -> ParseUsdErrorKind {
        self.kind
    }

    fn describe(&self) -> &'static str {
        match self.kind {
            ParseUsdErrorKind::Empty => "empty string",
            ParseUsdErrorKind::MissingDigits => {
                "expected digits on both sides of the decimal point"
            }
            ParseUsdErrorKind::InvalidCharacter => {
                "only digits, an optional leading '-' and one '.' are allowed (no exponents)"
            }
            ParseUsdErrorKind::TooManyFractionDigits => {
                "more than 12 digits after the decimal point (below one pico-dollar)"
            }
            ParseUsdErrorKind::Overflow => "value out of range",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    #[test]
    fn parses_and_displays_minimal_decimals() {
        for (input, pico, shown) in [
            ("0.00001425", 14_250_000, "0.00001425"),
            ("-3", -3_000_000_000_000, "-3"),
            ("12.5", 12_500_000_000_000, "12.5"),
            ("40", 40_000_000_000_000, "40"),
            ("0", 0, "0"),
            ("-0", 0, "0"),
            ("0.000000000001", 1, "0.000000000001"),
            ("-1.500", -1_500_000_000_000, "-1.5"),
            ("007.10", 7_100_000_000_000, "7.1"),
        ] {
            let v = usd(input);
            assert_eq!(v.pico(), pico, "{input}");
            assert_eq!(v.to_string(), shown, "{input}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        use ParseUsdErrorKind::*;
        for (input, kind) in [
            ("", Empty),
            ("-", MissingDigits),
            (".", MissingDigits),
            (".5", MissingDigits),
            ("5.", MissingDigits),
            ("+1", InvalidCharacter),
            ("1e-7", InvalidCharacter),
            ("1E5", InvalidCharacter),
            (" 1", InvalidCharacter),
            ("1,5", InvalidCharacter),
            ("1.2.3", InvalidCharacter),
            ("--1", InvalidCharacter),
            ("NaN", InvalidCharacter),
            ("0.0000000000001", TooManyFractionDigits),
            ("1000000000000000000000000000", Overflow),
        ] {
            assert_eq!(Usd::parse(input).unwrap_err().kind(), kind, "{input:?}");
        }
    }

    #[test]
    fn error_message_does_not_echo_input() {
        let huge = "9".repeat(10_000);
        let msg = Usd::parse(&huge).unwrap_err().to_string();
        assert!(msg.len() < 100, "{msg}");
        assert!(!msg.contains("9999"));
    }

    #[test]
    fn extremes_round_trip() {
        for v in [Usd::MAX, Usd::MIN, Usd::from_pico(-1)] {
            assert_eq!(usd(&v.to_string()), v);
        }
    }

    #[test]
    fn debug_has_dollar_sign() {
        assert_eq!(format!("{:?}", usd("1.5")), "$1.5");
        assert_eq!(format!("{:?}", usd("-1.5")), "-$1.5");
    }

    #[test]
    fn arithmetic_saturates_and_checks() {
        assert_eq!(usd("0.1") + usd("0.2"), usd("0.3"));
        assert_eq!(usd("0.1") - usd("0.2"), usd("-0.1"));
        assert_eq!(Usd::MAX + Usd::from_pico(1), Usd::MAX);
        assert_eq!(Usd::MIN - Usd::from_pico(1), Usd::MIN);
        assert_eq!(Usd::MAX.checked_add(Usd::from_pico(1)), None);
        assert_eq!(usd("0.04").checked_mul(3), Some(usd("0.12")));
        assert_eq!(Usd::MAX.checked_mul(2), None);
        let total: Usd = [usd("1"), usd("2.5")].iter().sum();
        assert_eq!(total, usd("3.5"));
        let mut x = usd("1");
        x += usd("1");
        x -= usd("0.5");
        assert_eq!(x, usd("1.5"));
        assert!(usd("-0.01").is_negative());
        assert_eq!(Usd::from_dollars(-2), usd("-2"));
    }

    #[test]
    fn serde_uses_strings_only() {
        let v = usd("0.00001425");
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"0.00001425\"");
        assert_eq!(
            serde_json::from_str::<Usd>("\"12.5\"").unwrap(),
            usd("12.5")
        );
        assert!(serde_json::from_str::<Usd>("12.5").is_err());
        assert!(serde_json::from_str::<Usd>("12").is_err());
        assert!(serde_json::from_str::<Usd>("\"1e3\"").is_err());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(pico in any::<i128>()) {
            let v = Usd::from_pico(pico);
            let s = v.to_string();
            prop_assert!(!s.contains('e') && !s.contains('E'));
            prop_assert_eq!(Usd::parse(&s).unwrap(), v);
            prop_assert_eq!(serde_json::from_str::<Usd>(&serde_json::to_string(&v).unwrap()).unwrap(), v);
        }

        #[test]
        fn parse_display_round_trip(int in 0u64.., frac in 0u64..1_000_000_000_000, neg: bool) {
            let s = format!("{}{int}.{frac:012}", if neg { "-" } else { "" });
            let v = Usd::parse(&s).unwrap();
            let expected = (i128::from(int) * PICO_PER_USD + i128::from(frac)) * if neg { -1 } else { 1 };
            prop_assert_eq!(v.pico(), expected);
            prop_assert_eq!(Usd::parse(&v.to_string()).unwrap(), v);
        }
    }
}
