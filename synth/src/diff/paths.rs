//! Where two JSON documents differ, as property paths (`Properties.KeySchema[0].KeyType`).

use std::collections::BTreeSet;

use serde_json::Value;

/// The paths under `prefix` at which `before` and `after` differ: the deepest object key
/// or list index where they do, or the list itself when its length changed.
pub fn changed_paths(prefix: &str, before: &Value, after: &Value) -> Vec<String> {
    let mut paths = Vec::new();
    walk(prefix, before, after, &mut paths);
    paths
}

fn walk(path: &str, before: &Value, after: &Value, paths: &mut Vec<String>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                let child = match path {
                    "" => key.clone(),
                    _ => format!("{path}.{key}"),
                };
                match (old.get(key), new.get(key)) {
                    (Some(a), Some(b)) => walk(&child, a, b, paths),
                    _ => paths.push(child),
                }
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (index, (a, b)) in old.iter().zip(new).enumerate() {
                walk(&format!("{path}[{index}]"), a, b, paths);
            }
        }
        _ => paths.push(path.to_owned()),
    }
}

/// The property a path is under (`Properties.KeySchema[0]` is under `KeySchema`), if any.
pub fn property(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("Properties.")?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_the_deepest_difference() {
        let before = json!({"Type": "T", "Properties": {"A": [{"K": 1}, {"K": 2}], "B": "x"}});
        let after = json!({"Type": "T", "Properties": {"A": [{"K": 1}, {"K": 3}], "C": "y"}});
        assert_eq!(
            changed_paths("", &before, &after),
            ["Properties.A[1].K", "Properties.B", "Properties.C"]
        );
        let longer = json!({"Type": "T", "Properties": {"A": [1, 2, 3], "B": "x"}});
        assert_eq!(
            changed_paths(
                "",
                &json!({"Properties": {"A": [1]}}),
                &json!({"Properties": {"A": [1, 2]}})
            ),
            ["Properties.A"]
        );
        assert!(changed_paths("", &longer, &longer).is_empty());
    }

    #[test]
    fn a_path_is_under_its_top_level_property() {
        assert_eq!(
            property("Properties.KeySchema[0].KeyType"),
            Some("KeySchema")
        );
        assert_eq!(property("Properties.TableName"), Some("TableName"));
        assert_eq!(property("DeletionPolicy"), None);
    }
}
