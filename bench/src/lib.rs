//! What the benchmarks in `benches/` share (run them with `make bench`).

/// Runs a benchmark's body on a Tokio runtime with two workers, as many as the machine
/// has cores: the harness, the local Runtime API and the fault proxy share them.
pub fn block_on<F: std::future::Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(body)
}

/// The benchmark's numeric options (`--name N`), each starting at its default; `cargo
/// bench` adds `--bench`, which is ignored. Anything else stops the benchmark with the
/// options it takes, since a typo would otherwise measure the defaults silently.
pub fn options<const N: usize>(defaults: [(&str, usize); N]) -> [usize; N] {
    parse(std::env::args().skip(1), defaults)
}

/// The same for options that take a list of numbers (`--name N,N,...`; `_` may group
/// digits, as in `100_000`).
pub fn list_options<const N: usize>(defaults: [(&str, &[usize]); N]) -> [Vec<usize>; N] {
    parse_lists(std::env::args().skip(1), defaults)
}

fn parse<const N: usize>(
    words: impl IntoIterator<Item = String>,
    defaults: [(&str, usize); N],
) -> [usize; N] {
    let usage = defaults.map(|(name, default)| format!("--{name} N (default {default})"));
    let names = defaults.map(|(name, _)| name);
    let values = defaults.map(|(_, default)| default);
    parse_with(words, names, values, &usage, |value| value.parse().ok())
}

fn parse_lists<const N: usize>(
    words: impl IntoIterator<Item = String>,
    defaults: [(&str, &[usize]); N],
) -> [Vec<usize>; N] {
    let usage = defaults.map(|(name, default)| {
        let default: Vec<String> = default.iter().map(ToString::to_string).collect();
        format!("--{name} N[,N...] (default {})", default.join(","))
    });
    let names = defaults.map(|(name, _)| name);
    let values = defaults.map(|(_, default)| default.to_vec());
    parse_with(words, names, values, &usage, |value| {
        let numbers = value.split(',').map(|n| n.replace('_', "").parse().ok());
        numbers.collect::<Option<Vec<usize>>>()
    })
}

/// Reads `--name VALUE` pairs over `values` (the defaults), each value read by `read`.
fn parse_with<T, const N: usize>(
    words: impl IntoIterator<Item = String>,
    names: [&str; N],
    mut values: [T; N],
    usage: &[String; N],
    read: impl Fn(&str) -> Option<T>,
) -> [T; N] {
    let usage = usage.join(", ");
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "--bench" {
            continue;
        }
        let name = word.trim_start_matches("--");
        let Some(index) = names.iter().position(|known| *known == name) else {
            panic!("unknown argument {word:?}; this benchmark takes {usage}");
        };
        let value = words.next().unwrap_or_default();
        values[index] =
            read(&value).unwrap_or_else(|| panic!("{word} takes a number, not {value:?}"));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_lists};

    #[test]
    fn options_take_numbers_by_name_and_keep_defaults() {
        let words = |text: &str| {
            text.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let defaults = [("events", 1000), ("starts", 20)];
        assert_eq!(parse(words("--bench --starts 3"), defaults), [1000, 3]);
        assert_eq!(parse(words(""), defaults), [1000, 20]);
        let typo = std::panic::catch_unwind(|| parse(words("--event 5"), defaults));
        assert!(typo.is_err());
    }

    #[test]
    fn list_options_take_lists_of_numbers() {
        let words = |text: &str| {
            text.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let defaults: [(&str, &[usize]); 2] = [("dispatches", &[10]), ("runs", &[24])];
        assert_eq!(
            parse_lists(words("--bench --dispatches 1000,100_000"), defaults),
            [vec![1000, 100_000], vec![24]]
        );
        let bad = std::panic::catch_unwind(|| parse_lists(words("--runs 1,x"), defaults));
        assert!(bad.is_err());
    }
}
