//! Which bucket (sub-directory of the base path) a file sink writes a record into: none (the
//! base path itself), or one named by the processing time in a Java date-time pattern
//! (Flink's `DateTimeBucketAssigner`, default `yyyy-MM-dd--HH`).

use crate::connectors::file_sink::time_zone::{civil_from_days, TimeZone};

#[derive(Clone, Debug, PartialEq)]
pub enum BucketAssigner {
    BasePath,
    DateTime { format: DateTimeFormat, zone: TimeZone },
}

impl BucketAssigner {
    /// The bucket id at processing time `now` (ms): a path relative to the base path ("" for
    /// the base path itself).
    pub fn bucket_id(&self, now: i64) -> String {
        match self {
            BucketAssigner::BasePath => String::new(),
            BucketAssigner::DateTime { format, zone } => format.format(now, zone),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// A pattern letter and how many times it was repeated.
    Field(char, usize),
}

/// A Java `DateTimeFormatter` pattern made of the letters `y M d H m s` and literal text
/// (characters other than letters, or text in single quotes; `''` is a quote).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTimeFormat {
    pieces: Vec<Piece>,
}

const SUPPORTED: &str = "yyyy (year), yy, MM (month), dd (day), HH (hour 0-23), mm (minute), ss (second)";

impl DateTimeFormat {
    pub fn parse(pattern: &str) -> Result<DateTimeFormat, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match chars.next() {
                        None => return Err(format!("the date-time pattern '{pattern}' has an unclosed quote")),
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(q) => literal.push(q),
                    }
                }
            } else if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    n += 1;
                }
                let ok = match c {
                    'y' => true,
                    'M' | 'd' | 'H' | 'm' | 's' => n <= 2,
                    _ => false,
                };
                if !ok {
                    return Err(format!(
                        "the date-time pattern '{pattern}' uses '{}', which is not supported: use {SUPPORTED}, \
                         and put other text in single quotes",
                        c.to_string().repeat(n)
                    ));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(c, n));
            } else if "[]{}#".contains(c) {
                return Err(format!(
                    "the date-time pattern '{pattern}' uses '{c}', which is reserved: put it in single quotes"
                ));
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(DateTimeFormat { pieces })
    }

    /// The text of processing time `time` (ms since the epoch) in `zone`.
    pub fn format(&self, time: i64, zone: &TimeZone) -> String {
        let seconds = time.div_euclid(1000);
        let local = seconds + zone.offset_at(seconds) as i64;
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let in_day = local.rem_euclid(86_400);
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Field(letter, width) => {
                    let value = match letter {
                        'y' if *width == 2 => year.rem_euclid(100),
                        'y' => year,
                        'M' => month,
                        'd' => day,
                        'H' => in_day / 3600,
                        'm' => in_day / 60 % 60,
                        _ => in_day % 60,
                    };
                    let width = if *letter == 'y' && *width == 2 { 2 } else { *width };
                    out.push_str(&format!("{value:0width$}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::file_sink::time_zone::days_from_civil;

    fn ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
        ((days_from_civil(y, mo, d) * 86_400) + h * 3600 + mi * 60 + s) * 1000 + 999
    }

    #[test]
    fn patterns_format_as_java() {
        let t = ms(2024, 3, 7, 5, 4, 9);
        let f = |p: &str| DateTimeFormat::parse(p).unwrap().format(t, &TimeZone::UTC);
        assert_eq!(f("yyyy-MM-dd--HH"), "2024-03-07--05");
        assert_eq!(f("yy/M/d H:m:s"), "24/3/7 5:4:9");
        assert_eq!(f("'date='yyyyMMdd'T'HHmmss"), "date=20240307T050409");
        assert_eq!(f("'it''s' yyyy"), "it's 2024");
        assert_eq!(f("''yyyy"), "'2024");
        let berlin = DateTimeFormat::parse("yyyy-MM-dd--HH")
            .unwrap()
            .format(t, &TimeZone::Fixed(3600));
        assert_eq!(berlin, "2024-03-07--06");
        let before_epoch = DateTimeFormat::parse("yyyy-MM-dd HH:mm:ss")
            .unwrap()
            .format(-1, &TimeZone::UTC);
        assert_eq!(before_epoch, "1969-12-31 23:59:59");
    }

    #[test]
    fn unsupported_letters_are_refused_with_the_letters_that_work() {
        for p in ["yyyy-MMM", "EEE", "dd'", "HHH", "yyyy[MM]"] {
            let err = DateTimeFormat::parse(p).unwrap_err();
            assert!(err.contains(p), "{err}");
        }
        assert!(DateTimeFormat::parse("hh").unwrap_err().contains("yyyy (year)"));
    }

    #[test]
    fn base_path_assigner_has_one_bucket() {
        assert_eq!(BucketAssigner::BasePath.bucket_id(123), "");
        let d = BucketAssigner::DateTime {
            format: DateTimeFormat::parse("yyyy").unwrap(),
            zone: TimeZone::UTC,
        };
        assert_eq!(d.bucket_id(0), "1970");
    }
}
