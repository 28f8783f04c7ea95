//! Time zones for the date-time bucket assigner: UTC, fixed offsets (`+01:00`, `GMT-8`), and
//! named zones (`Europe/Berlin`) from the system's time-zone database (TZif files, with the
//! POSIX rule at their end for times after their last transition); the local zone is `TZ` or
//! `/etc/localtime`.

use std::path::{Path, PathBuf};

const ZONE_DIRS: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/lib/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/etc/zoneinfo",
];

#[derive(Clone, Debug, PartialEq)]
pub enum TimeZone {
    /// Seconds east of UTC.
    Fixed(i32),
    Rules(Box<ZoneRules>),
}

/// A zone read from a TZif file.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneRules {
    /// Transition times (s since the epoch), ascending, and the offset from each on.
    transitions: Vec<(i64, i32)>,
    /// The offset before the first transition.
    initial: i32,
    /// The rule after the last transition.
    footer: Option<PosixRule>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DayRule {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian1(i64),
    /// `n`: day 0..=365.
    Julian0(i64),
    /// `Mm.w.d`: day `d` (0 Sunday) of week `w` (5: the last) of month `m`.
    Month(i64, i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Dst {
    offset: i32,
    start: (DayRule, i64),
    end: (DayRule, i64),
}

/// A POSIX `TZ` rule such as `CET-1CEST,M3.5.0,M10.5.0/3`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PosixRule {
    offset: i32,
    dst: Option<Dst>,
}

impl TimeZone {
    pub const UTC: TimeZone = TimeZone::Fixed(0);

    /// The zone of a Java zone id: `UTC`, `Z`, `+01:00`, `UTC+1`, `GMT-08:00`, `Europe/Berlin`.
    pub fn of_id(id: &str) -> Result<TimeZone, String> {
        if let Some(offset) = parse_fixed(id) {
            return Ok(TimeZone::Fixed(offset));
        }
        let safe = !id.is_empty()
            && !id.starts_with('/')
            && !id.split('/').any(|part| part.is_empty() || part == "." || part == "..")
            && id.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if safe {
            for dir in ZONE_DIRS {
                if let Some(zone) = read_zone_file(&Path::new(dir).join(id)) {
                    return Ok(zone);
                }
            }
        }
        Err(format!(
            "unknown time zone id '{id}': give a region such as 'Europe/Berlin' (from the system's \
             time-zone database), 'UTC', or an offset such as '+01:00' or 'GMT-08:00'"
        ))
    }

    /// The system's zone: `TZ` when set, else `/etc/localtime`, else UTC.
    pub fn local() -> TimeZone {
        if let Ok(tz) = std::env::var("TZ") {
            let name = tz.strip_prefix(':').unwrap_or(&tz);
            if name.starts_with('/') {
                if let Some(zone) = read_zone_file(Path::new(name)) {
                    return zone;
                }
            } else if let Ok(zone) = TimeZone::of_id(name) {
                return zone;
            } else if let Some(rule) = parse_posix(name) {
                return TimeZone::Rules(Box::new(ZoneRules {
                    transitions: Vec::new(),
                    initial: rule.offset,
                    footer: Some(rule),
                }));
            }
        }
        read_zone_file(&PathBuf::from("/etc/localtime")).unwrap_or(TimeZone::UTC)
    }

    /// Seconds east of UTC at `time` (s since the epoch).
    pub fn offset_at(&self, time: i64) -> i32 {
        match self {
            TimeZone::Fixed(offset) => *offset,
            TimeZone::Rules(rules) => rules.offset_at(time),
        }
    }
}

impl ZoneRules {
    fn offset_at(&self, time: i64) -> i32 {
        match self.transitions.last() {
            Some(&(last, _)) if time >= last => {
                if let Some(rule) = &self.footer {
                    return rule.offset_at(time);
                }
            }
            None => return self.footer.map_or(self.initial, |rule| rule.offset_at(time)),
            _ => {}
        }
        let after = self.transitions.partition_point(|&(t, _)| t <= time);
        if after == 0 {
            self.initial
        } else {
            self.transitions[after - 1].1
        }
    }
}

impl PosixRule {
    fn offset_at(&self, time: i64) -> i32 {
        let Some(dst) = &self.dst else { return self.offset };
        let (year, _, _) = civil_from_days((time + self.offset as i64).div_euclid(86_400));
        let start = local_seconds(year, dst.start) - self.offset as i64;
        let end = local_seconds(year, dst.end) - dst.offset as i64;
        let in_dst = if start < end {
            start <= time && time < end
        } else {
            !(end <= time && time < start)
        };
        if in_dst {
            dst.offset
        } else {
            self.offset
        }
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_length(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01: (year, month 1..=12, day 1..=31).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Local seconds since the epoch at which a rule's day and time fall in `year`.
fn local_seconds(year: i64, (rule, time): (DayRule, i64)) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    let day = match rule {
        DayRule::Julian1(n) => jan1 + n - 1 + i64::from(is_leap(year) && n >= 60),
        DayRule::Julian0(n) => jan1 + n,
        DayRule::Month(m, w, d) => {
            let first = days_from_civil(year, m, 1);
            let weekday = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
            let mut day = 1 + (d - weekday).rem_euclid(7) + (w - 1) * 7;
            while day > month_length(year, m) {
                day -= 7;
            }
            first + day - 1
        }
    };
    day * 86_400 + time
}

/// `[+-]h[h][:mm[:ss]]` (or `hhmm`) as seconds; the rest of the text.
fn parse_hms(s: &str) -> Option<(i64, &str)> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => (1, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut rest_after = &rest[digits..];
    let mut seconds = if digits == 4 {
        // hhmm
        rest[..2].parse::<i64>().ok()? * 3600 + rest[2..4].parse::<i64>().ok()? * 60
    } else if digits <= 3 {
        rest[..digits].parse::<i64>().ok()? * 3600
    } else {
        return None;
    };
    for unit in [60, 1] {
        let Some(after_colon) = rest_after.strip_prefix(':') else {
            break;
        };
        let n = after_colon.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 2 {
            return None;
        }
        seconds += after_colon[..n].parse::<i64>().ok()? * unit;
        rest_after = &after_colon[n..];
    }
    Some((sign * seconds, rest_after))
}

/// `Z`, `UTC`, `GMT`, `UT`, alone or followed by an offset, or an offset alone.
fn parse_fixed(id: &str) -> Option<i32> {
    let rest = ["UTC", "GMT", "UT", "Z"]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id);
    if rest.is_empty() {
        return (!id.is_empty()).then_some(0);
    }
    if !rest.starts_with('+') && !rest.starts_with('-') {
        return None;
    }
    let (seconds, tail) = parse_hms(rest)?;
    (tail.is_empty() && seconds.abs() <= 18 * 3600).then_some(seconds as i32)
}

fn parse_zone_name(s: &str) -> Option<&str> {
    if let Some(quoted) = s.strip_prefix('<') {
        let end = quoted.find('>')?;
        return Some(&quoted[end + 1..]);
    }
    let n = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    (n >= 3).then_some(&s[n..])
}

fn parse_day_rule(s: &str) -> Option<((DayRule, i64), &str)> {
    let (rule, rest) = if let Some(r) = s.strip_prefix('J') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        (DayRule::Julian1(r[..n].parse().ok()?), &r[n..])
    } else if let Some(r) = s.strip_prefix('M') {
        let mut fields = [0i64; 3];
        let mut rest = r;
        for (i, f) in fields.iter_mut().enumerate() {
            if i > 0 {
                rest = rest.strip_prefix('.')?;
            }
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            *f = rest[..n].parse().ok()?;
            rest = &rest[n..];
        }
        let [m, w, d] = fields;
        if !(1..=12).contains(&m) || !(1..=5).contains(&w) || !(0..=6).contains(&d) {
            return None;
        }
        (DayRule::Month(m, w, d), rest)
    } else {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (DayRule::Julian0(s[..n].parse().ok()?), &s[n..])
    };
    match rest.strip_prefix('/') {
        Some(t) => {
            let (time, rest) = parse_hms(t)?;
            Some(((rule, time), rest))
        }
        None => Some(((rule, 7200), rest)),
    }
}

fn parse_posix(s: &str) -> Option<PosixRule> {
    let rest = parse_zone_name(s)?;
    let (west, rest) = parse_hms(rest)?;
    let offset = -west as i32;
    if rest.is_empty() {
        return Some(PosixRule { offset, dst: None });
    }
    let rest = parse_zone_name(rest)?;
    let (dst_offset, rest) = match parse_hms(rest) {
        Some((west, rest)) if !rest.starts_with(|c: char| c.is_ascii_digit()) => (-west as i32, rest),
        _ => (offset + 3600, rest),
    };
    let rules = if rest.is_empty() { ",M3.2.0,M11.1.0" } else { rest };
    let (start, rest) = parse_day_rule(rules.strip_prefix(',')?)?;
    let (end, rest) = parse_day_rule(rest.strip_prefix(',')?)?;
    rest.is_empty().then_some(PosixRule {
        offset,
        dst: Some(Dst {
            offset: dst_offset,
            start,
            end,
        }),
    })
}

fn be_u32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn read_zone_file(path: &Path) -> Option<TimeZone> {
    let bytes = std::fs::read(path).ok()?;
    parse_tzif(&bytes).map(|rules| TimeZone::Rules(Box::new(rules)))
}

/// A TZif file (RFC 8536), version 1 to 4.
fn parse_tzif(b: &[u8]) -> Option<ZoneRules> {
    if !b.starts_with(b"TZif") {
        return None;
    }
    let block = |start: usize, time_size: usize| -> Option<(ZoneRules, usize)> {
        if b.get(start..start + 4)? != b"TZif" {
            return None;
        }
        let [isut, isstd, leap, timecnt, typecnt, charcnt] = [20, 24, 28, 32, 36, 40].map(|o| be_u32(b, start + o));
        let (isut, isstd, leap, timecnt, typecnt, charcnt) = (isut?, isstd?, leap?, timecnt?, typecnt?, charcnt?);
        let times_at = start + 44;
        let idx_at = times_at + timecnt * time_size;
        let types_at = idx_at + timecnt;
        let end = types_at + typecnt * 6 + charcnt + leap * (time_size + 4) + isstd + isut;
        if end > b.len() || typecnt == 0 {
            return None;
        }
        let offset_of_type = |t: usize| -> Option<i32> {
            let at = types_at + t * 6;
            Some(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
        };
        let mut transitions = Vec::with_capacity(timecnt);
        for i in 0..timecnt {
            let at = times_at + i * time_size;
            let time = if time_size == 8 {
                i64::from_be_bytes(b[at..at + 8].try_into().ok()?)
            } else {
                i32::from_be_bytes(b[at..at + 4].try_into().ok()?) as i64
            };
            let t = b[idx_at + i] as usize;
            if t >= typecnt {
                return None;
            }
            transitions.push((time, offset_of_type(t)?));
        }
        let rules = ZoneRules {
            transitions,
            initial: offset_of_type(0)?,
            footer: None,
        };
        Some((rules, end))
    };
    let (v1, v1_end) = block(0, 4)?;
    if b[4] < b'2' {
        return Some(v1);
    }
    let (mut rules, end) = block(v1_end, 8)?;
    let footer = b.get(end..)?;
    if let Some(text) = footer.strip_prefix(b"\n") {
        let line = text.split(|&c| c == b'\n').next().unwrap_or_default();
        rules.footer = std::str::from_utf8(line).ok().and_then(parse_posix);
    }
    Some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: i64, d: i64, h: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-800_000, -1, 0, 59, 10_000, 20_000, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn fixed_offsets() {
        for (id, secs) in [
            ("UTC", 0),
            ("Z", 0),
            ("GMT", 0),
            ("+01:00", 3600),
            ("GMT-08:00", -8 * 3600),
            ("UTC+5", 5 * 3600),
            ("+0530", 19_800),
        ] {
            assert_eq!(TimeZone::of_id(id), Ok(TimeZone::Fixed(secs)), "{id}");
        }
        assert!(TimeZone::of_id("Mars/Olympus").unwrap_err().contains("Mars/Olympus"));
        assert!(TimeZone::of_id("../etc/passwd").is_err());
        assert!(TimeZone::of_id("").is_err());
    }

    #[test]
    fn posix_rules_give_summer_time() {
        let berlin = parse_posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(berlin.offset_at(at(2030, 1, 15, 12)), 3600);
        assert_eq!(berlin.offset_at(at(2030, 7, 15, 12)), 7200);
        // 2030-03-31 is the last Sunday of March: summer time from 01:00 UTC.
        assert_eq!(berlin.offset_at(at(2030, 3, 31, 0)), 3600);
        assert_eq!(berlin.offset_at(at(2030, 3, 31, 1)), 7200);
        let sydney = parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(sydney.offset_at(at(2030, 1, 15, 0)), 11 * 3600);
        assert_eq!(sydney.offset_at(at(2030, 7, 15, 0)), 10 * 3600);
        assert_eq!(parse_posix("<+0330>-3:30").unwrap().offset_at(0), 12_600);
        assert_eq!(parse_posix("EST5EDT").unwrap().offset_at(at(2030, 7, 1, 0)), -4 * 3600);
    }

    #[test]
    fn zone_files_from_the_system_database() {
        let Ok(berlin) = TimeZone::of_id("Europe/Berlin") else {
            return; // no time-zone database on this machine
        };
        assert_eq!(berlin.offset_at(at(2024, 1, 15, 12)), 3600);
        assert_eq!(berlin.offset_at(at(2024, 7, 15, 12)), 7200);
        assert_eq!(berlin.offset_at(at(2090, 7, 15, 12)), 7200, "after the last transition");
        assert_eq!(berlin.offset_at(at(1880, 7, 15, 12)), 3208, "local mean time");
    }
}
