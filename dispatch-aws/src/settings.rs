//! The one reader of a process's settings: environment variables named by the contract
//! (`contract::env::Var`), each with its default.

use contract::env::Var;

/// A setting that cannot be used. A function's init fails on it, so a bad deploy shows at
/// once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is not valid: {expected}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Reads settings through a lookup (the process environment, or a test's table).
pub struct Settings<F> {
    lookup: F,
}

impl Settings<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn from_env() -> Self {
        Settings::new(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    /// Settings read through `lookup`, so tests need not touch the process environment.
    pub fn new(lookup: F) -> Self {
        Settings { lookup }
    }

    /// The value of `var`, trimmed; its default when unset or empty. (Stray whitespace in a
    /// console-edited variable would only fail later, at runtime.)
    pub fn get(&self, var: Var) -> String {
        (self.lookup)(var.name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| var.default.to_owned())
    }

    /// `var` as a whole number above 0; `expected` says what is allowed.
    pub fn positive(&self, var: Var, expected: &'static str) -> Result<u32, SettingError> {
        let value = self.get(var);
        value
            .parse::<u32>()
            .ok()
            .filter(|number| *number > 0)
            .ok_or(SettingError {
                name: var.name,
                value,
                expected,
            })
    }

    /// The value as it was set, untrimmed, for an error message.
    pub fn raw(&self, var: Var) -> String {
        (self.lookup)(var.name).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAR: Var = Var {
        name: "LIMIT",
        default: "5",
    };

    #[test]
    fn unset_and_empty_take_the_default_and_values_are_trimmed() {
        let unset = Settings::new(|_| None);
        assert_eq!(unset.get(VAR), "5");
        let empty = Settings::new(|_| Some("  ".to_owned()));
        assert_eq!(empty.positive(VAR, "n").unwrap(), 5);
        let set = Settings::new(|_| Some(" 7 ".to_owned()));
        assert_eq!(set.positive(VAR, "n").unwrap(), 7);
        let zero = Settings::new(|_| Some("0".to_owned()));
        assert_eq!(
            zero.positive(VAR, "above 0").unwrap_err().to_string(),
            "LIMIT=\"0\" is not valid: above 0"
        );
    }
}
