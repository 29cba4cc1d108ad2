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

fn parse<const N: usize>(
    words: impl IntoIterator<Item = String>,
    defaults: [(&str, usize); N],
) -> [usize; N] {
    let usage = defaults
        .iter()
        .map(|(name, default)| format!("--{name} N (default {default})"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut values = defaults.map(|(_, default)| default);
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "--bench" {
            continue;
        }
        let name = word.trim_start_matches("--");
        let Some(index) = defaults.iter().position(|(known, _)| *known == name) else {
            panic!("unknown argument {word:?}; this benchmark takes {usage}");
        };
        let value = words.next().unwrap_or_default();
        values[index] = value
            .parse()
            .unwrap_or_else(|_| panic!("{word} takes a number, not {value:?}"));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::parse;

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
}
