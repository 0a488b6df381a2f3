//! Scores decoder runs against the manifest and prints the Markdown report: per decoder and per
//! category, recall, exact images, false payloads and decode times, then the goals.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::decoders::Run;
use crate::manifest::{Entry, Manifest};

/// Figures of one decoder over a set of images.
#[derive(Debug, Default)]
struct Score {
    images: usize,
    expected: usize,
    found: usize,
    exact: usize,
    false_payloads: usize,
    errors: usize,
    /// Seconds per image, sorted.
    times: Vec<f64>,
    /// The slowest image and its time.
    slowest: Option<(String, f64)>,
}

impl Score {
    /// Scores `run` on the images of `manifest` that `keep` selects.
    fn of(manifest: &Manifest, run: &Run, keep: impl Fn(&Entry) -> bool) -> Self {
        let mut score = Self::default();
        for (entry, reading) in manifest.images.iter().zip(&run.readings) {
            if !keep(entry) {
                continue;
            }
            let expected: BTreeSet<&str> = entry.payloads.iter().map(String::as_str).collect();
            let found: BTreeSet<&str> = reading.texts.iter().map(String::as_str).collect();
            score.images += 1;
            score.expected += expected.len();
            score.found += expected.intersection(&found).count();
            score.false_payloads += found.difference(&expected).count();
            score.exact += usize::from(found == expected);
            score.errors += usize::from(reading.error.is_some());
            score.times.push(reading.seconds);
            if score.slowest.as_ref().is_none_or(|(_, t)| reading.seconds > *t) {
                score.slowest = Some((entry.file.clone(), reading.seconds));
            }
        }
        score.times.sort_by(f64::total_cmp);
        score
    }

    /// Found payloads over expected ones, in percent (100 when none were expected).
    fn recall(&self) -> f64 {
        if self.expected == 0 { 100.0 } else { 100.0 * self.found as f64 / self.expected as f64 }
    }

    /// The `p`-quantile of the times (nearest rank), in seconds.
    fn quantile(&self, p: f64) -> f64 {
        let n = self.times.len();
        if n == 0 {
            return 0.0;
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.times.get(rank - 1).copied().unwrap_or(0.0)
    }
}

/// Milliseconds, with precision where it matters.
fn ms(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{ms:.0} ms") }
}

/// The report for `runs` over `manifest`.
pub fn report(manifest: &Manifest, runs: &[Run]) -> String {
    let mut out = String::new();
    let payloads: usize = manifest.images.iter().map(|e| e.payloads.len()).sum();
    let _ = writeln!(
        out,
        "QR decoders on the corpus {}: {} images, {} expected payloads, {} categories.\n",
        if manifest.title.is_empty() { "generated" } else { &manifest.title },
        manifest.images.len(),
        payloads,
        manifest.categories().len()
    );
    let _ = writeln!(
        out,
        "| decoder | timing | recall | exact images | false payloads | errors | median | p90 | slowest image |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        let s = Score::of(manifest, run, |_| true);
        let slowest =
            s.slowest.as_ref().map_or_else(String::new, |(f, t)| format!("{} ({f})", ms(*t)));
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} % ({}/{}) | {}/{} | {} | {} | {} | {} | {slowest} |",
            run.decoder,
            run.timing,
            s.recall(),
            s.found,
            s.expected,
            s.exact,
            s.images,
            s.false_payloads,
            s.errors,
            ms(s.quantile(0.5)),
            ms(s.quantile(0.9)),
        );
    }
    let categories: Vec<(String, Group<'_>)> = manifest
        .categories()
        .into_iter()
        .map(|category| (category.to_owned(), Group::Category(category)))
        .collect();
    out.push_str(&group_table(manifest, runs, "category", &categories));
    for facet in manifest.facets() {
        let values: Vec<(String, Group<'_>)> = manifest
            .facet_values(facet)
            .into_iter()
            .map(|value| (value.to_owned(), Group::Facet(facet, value)))
            .collect();
        out.push_str(&group_table(manifest, runs, facet, &values));
    }
    out.push_str(&goals(manifest, runs));
    out
}

/// A set of images scored together: one category, or one value of a facet.
#[derive(Clone, Copy)]
enum Group<'a> {
    Category(&'a str),
    Facet(&'a str, &'a str),
}

impl Group<'_> {
    fn holds(self, entry: &Entry) -> bool {
        match self {
            Self::Category(category) => entry.category == category,
            Self::Facet(name, value) => entry.facets.get(name).is_some_and(|v| v == value),
        }
    }
}

/// Every category and every facet value of `manifest`, named.
fn groups(manifest: &Manifest) -> Vec<(String, Group<'_>)> {
    let mut groups: Vec<(String, Group<'_>)> = manifest
        .categories()
        .into_iter()
        .map(|category| (category.to_owned(), Group::Category(category)))
        .collect();
    for facet in manifest.facets() {
        for value in manifest.facet_values(facet) {
            groups.push((format!("{facet} {value}"), Group::Facet(facet, value)));
        }
    }
    groups
}

/// One table of figures per decoder for each of `groups`, headed by what they group by.
fn group_table(
    manifest: &Manifest,
    runs: &[Run],
    by: &str,
    groups: &[(String, Group<'_>)],
) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "\nPer {by} (recall, exact images, false payloads, median / p90 time):\n");
    let mut header = format!("| {by} | images | payloads |");
    let mut rule = String::from("|---|---|---|");
    for run in runs {
        let _ = write!(header, " {} |", run.decoder);
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for (name, group) in groups {
        let in_group = |e: &Entry| group.holds(e);
        let images = manifest.images.iter().filter(|e| in_group(e)).count();
        let expected: usize =
            manifest.images.iter().filter(|e| in_group(e)).map(|e| e.payloads.len()).sum();
        let _ = write!(out, "| {name} | {images} | {expected} |");
        for run in runs {
            let s = Score::of(manifest, run, in_group);
            let _ = write!(
                out,
                " {:.1} % · {}/{} · {} · {} / {} |",
                s.recall(),
                s.exact,
                s.images,
                s.false_payloads,
                ms(s.quantile(0.5)),
                ms(s.quantile(0.9))
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// The issues' goals for twofold, judged against zxing-cpp where one is compared.
fn goals(manifest: &Manifest, runs: &[Run]) -> String {
    let mut out = String::new();
    let Some(twofold) = runs.iter().find(|r| r.decoder.starts_with("twofold")) else {
        return out;
    };
    let zxing = runs.iter().find(|r| r.decoder.starts_with("zxing"));
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let all = Score::of(manifest, twofold, |_| true);
    let _ = writeln!(out, "\nGoals (issues 4 and 19):\n");
    let _ = writeln!(
        out,
        "- recall ≥ 99.5 % overall: {} ({:.1} %)",
        verdict(all.recall() >= 99.5),
        all.recall()
    );
    let _ = writeln!(
        out,
        "- zero false payloads: {} ({})",
        verdict(all.false_payloads == 0),
        all.false_payloads
    );
    let slow = all.times.last().copied().unwrap_or(0.0);
    let _ = writeln!(out, "- no image over 1 s: {} (slowest {})", verdict(slow <= 1.0), ms(slow));
    let Some(zxing) = zxing else {
        let _ = writeln!(out, "- comparisons with zxing-cpp: not judged (zxing-cpp was not run)");
        return out;
    };
    let theirs = Score::of(manifest, zxing, |_| true);
    for (name, p) in [("median", 0.5), ("p90", 0.9)] {
        let (mine, their) = (all.quantile(p), theirs.quantile(p));
        let _ = writeln!(
            out,
            "- {name} not above zxing-cpp's: {} ({} vs {})",
            verdict(mine <= their),
            ms(mine),
            ms(their)
        );
    }
    let behind: Vec<String> = groups(manifest)
        .into_iter()
        .filter_map(|(name, group)| {
            let mine = Score::of(manifest, twofold, |e| group.holds(e)).recall();
            let theirs = Score::of(manifest, zxing, |e| group.holds(e)).recall();
            (mine < theirs).then(|| format!("{name} {mine:.1} % < {theirs:.1} %"))
        })
        .collect();
    let detail = if behind.is_empty() { "in every one".to_owned() } else { behind.join(", ") };
    let _ = writeln!(
        out,
        "- recall not below zxing-cpp's in any category or facet: {} ({detail})",
        verdict(behind.is_empty())
    );
    out
}

/// Lines naming every image a decoder got wrong: what was missed and what was found but not
/// expected (payloads shortened: they hold test secrets, and long ones drown the list).
pub fn misses(manifest: &Manifest, run: &Run) -> String {
    let short = |t: &str| -> String {
        let head: String = t.chars().take(48).collect();
        if head.len() < t.len() { format!("{head}…") } else { head }
    };
    let mut out = String::new();
    for (entry, reading) in manifest.images.iter().zip(&run.readings) {
        let expected: BTreeSet<&str> = entry.payloads.iter().map(String::as_str).collect();
        let found: BTreeSet<&str> = reading.texts.iter().map(String::as_str).collect();
        if found == expected && reading.error.is_none() {
            continue;
        }
        let missed = expected.difference(&found).count();
        let extra: Vec<String> = found.difference(&expected).map(|t| short(t)).collect();
        let _ = write!(
            out,
            "{}: {} ({}): missed {missed} of {}",
            run.decoder,
            entry.file,
            entry.note,
            expected.len()
        );
        if !extra.is_empty() {
            let _ = write!(out, ", false {extra:?}");
        }
        if let Some(error) = &reading.error {
            let _ = write!(out, ", error: {error}");
        }
        let _ = writeln!(out, ", {}", ms(reading.seconds));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoders::Reading;

    fn entry(file: &str, payloads: &[&str]) -> Entry {
        Entry {
            file: file.into(),
            category: "c".into(),
            note: String::new(),
            width: 1,
            height: 1,
            payloads: payloads.iter().map(|p| (*p).to_owned()).collect(),
            facets: Default::default(),
        }
    }

    fn reading(texts: &[&str], seconds: f64) -> Reading {
        Reading { texts: texts.iter().map(|t| (*t).to_owned()).collect(), seconds, error: None }
    }

    #[test]
    fn score_counts_recall_exact_images_false_payloads_and_slowest() {
        let manifest = Manifest {
            title: String::new(),
            images: vec![entry("a", &["x", "y"]), entry("b", &["z"]), entry("n", &[])],
        };
        let run = Run {
            decoder: "d".into(),
            timing: "in process",
            // A duplicate report of one payload counts once; a payload on a negative is false.
            readings: vec![reading(&["x", "x"], 0.2), reading(&["z"], 0.1), reading(&["q"], 0.3)],
        };
        let s = Score::of(&manifest, &run, |_| true);
        assert_eq!((s.expected, s.found, s.exact, s.false_payloads), (3, 2, 1, 1));
        assert!((s.recall() - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.quantile(0.5), 0.2);
        assert_eq!(s.quantile(0.9), 0.3);
        assert_eq!(s.slowest, Some(("n".to_owned(), 0.3)));
    }
}
