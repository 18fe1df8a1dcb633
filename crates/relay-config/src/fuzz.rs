//! The fuzzing entry point for configuration loading, shared by the proptest
//! suite below (run by CI) and the `cargo fuzz` target in the repository's
//! `fuzz/` (run by hand).

use crate::load::{Format, load_str};

/// Loads `text` (YAML, or TOML) with `env` as the environment. Loading any
/// text must not panic, and when it fails, neither the message nor the
/// `Debug` form of the error may contain any of `secrets` (values the caller
/// placed where the rules say they are never quoted: in secret fields, from
/// the environment, or longer than a quotable value). Returns which rule broke.
pub fn config_case(
    text: &str,
    format: Format,
    env: &[(String, String)],
    secrets: &[String],
) -> Result<(), String> {
    let lookup = |name: &str| {
        env.iter()
            .find(|(var, _)| var == name)
            .map(|(_, value)| value.clone())
    };
    let Err(error) = load_str(text, format, &lookup) else {
        return Ok(());
    };
    let shown = format!("{error}\n{error:?}");
    match secrets.iter().find(|s| shown.contains(s.as_str())) {
        Some(secret) => Err(format!("the error shows {secret:?}: {shown}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    /// Quotable length: a string longer than this is never quoted.
    const LONG: usize = 33;

    /// A generated file: its tree, the environment it expects, and the
    /// values that must never show.
    #[derive(Clone, Debug, Default)]
    struct Case {
        tree: Map<String, Value>,
        env: Vec<(String, String)>,
        secrets: Vec<String>,
    }

    /// How one slot of the file is filled; `n` makes each secret unique.
    #[derive(Clone, Copy, Debug)]
    enum Fill {
        Absent,
        Plain,
        Secret,
        SecretInList,
        SecretInMap,
        FromEnv,
        InsideEnvText,
        Long,
    }

    fn fill() -> impl Strategy<Value = Fill> {
        prop_oneof![
            2 => Just(Fill::Absent),
            2 => Just(Fill::Plain),
            2 => Just(Fill::Secret),
            1 => Just(Fill::SecretInList),
            1 => Just(Fill::SecretInMap),
            2 => Just(Fill::FromEnv),
            1 => Just(Fill::InsideEnvText),
            2 => Just(Fill::Long),
        ]
    }

    impl Case {
        /// Fills `key` of `map`: `secret_field` says whether the schema
        /// wants a secret there (any form is then unquotable); elsewhere only
        /// long and environment values are.
        fn put(
            &mut self,
            map: &mut Map<String, Value>,
            key: &str,
            fill: Fill,
            plain: Value,
            secret_field: bool,
        ) {
            let n = self.secrets.len();
            let short = format!("SECRET{n}q");
            let long = format!("SECRET{n}{}", "L".repeat(LONG));
            let var = format!("CC_FUZZ_{n}");
            let (value, secret) = match fill {
                Fill::Absent => return,
                Fill::Plain => (plain, None),
                Fill::Secret if secret_field => (json!(short), Some(short)),
                Fill::SecretInList if secret_field => (json!([short]), Some(short)),
                Fill::SecretInMap if secret_field => (json!({"v": short}), Some(short)),
                Fill::Secret | Fill::SecretInList | Fill::SecretInMap | Fill::Long => {
                    (json!(long), Some(long))
                }
                Fill::FromEnv => {
                    self.env.push((var.clone(), short.clone()));
                    (json!(format!("${{{var}}}")), Some(short))
                }
                Fill::InsideEnvText => {
                    self.env.push((var.clone(), short.clone()));
                    (json!(format!("x-${{{var}}}-y")), Some(short))
                }
            };
            self.secrets.extend(secret);
            map.insert(key.to_owned(), value);
        }
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            prop::collection::vec(fill(), 20),
            prop::collection::vec(
                prop_oneof![
                    Just(json!(7)),
                    Just(json!("x")),
                    Just(json!(true)),
                    Just(json!(-1)),
                    Just(json!(1.5))
                ],
                20,
            ),
            any::<bool>(),
        )
            .prop_map(|(fills, plains, long_unknown_key)| {
                let mut case = Case::default();
                let (mut server, mut auth, mut provider, mut key, mut routing) =
                    (Map::new(), Map::new(), Map::new(), Map::new(), Map::new());
                let f = |i: usize| fills[i];
                let p = |i: usize| plains[i].clone();
                case.put(&mut server, "api_key", f(0), p(0), true);
                case.put(&mut auth, "api_key", f(1), p(1), true);
                case.put(&mut auth, "bearer_secret", f(2), p(2), true);
                case.put(&mut auth, "allow_bearer", f(3), p(3), false);
                case.put(&mut server, "timeout_ms", f(4), p(4), false);
                case.put(&mut server, "max_body_bytes", f(5), p(5), false);
                case.put(&mut server, "enable_http2", f(6), p(6), false);
                case.put(&mut key, "key", f(7), p(7), true);
                case.put(&mut key, "rpm_limit", f(8), p(8), false);
                case.put(&mut provider, "type", f(9), json!("anthropic"), false);
                case.put(&mut provider, "aws_secret_access_key", f(10), p(10), true);
                case.put(&mut provider, "azure_client_secret", f(11), p(11), true);
                case.put(&mut provider, "priority", f(12), p(12), false);
                case.put(&mut provider, "no_such_setting", f(13), p(13), false);
                case.put(&mut routing, "strategy", f(14), json!("failover"), false);
                case.put(&mut routing, "failover_timeout", f(15), p(15), false);
                case.put(&mut routing, "max_attempts", f(16), p(16), false);
                server.insert("auth".into(), Value::Object(auth));
                provider.insert("name".into(), json!("p"));
                provider.insert("keys".into(), json!([Value::Object(key), {"key": "k2"}]));
                case.tree.insert("server".into(), Value::Object(server));
                case.tree
                    .insert("providers".into(), json!([Value::Object(provider)]));
                case.tree.insert("routing".into(), Value::Object(routing));
                case.put(&mut Map::new(), "unused", f(17), p(17), false);
                if long_unknown_key {
                    let name = format!("sk-ant-pasted-where-a-key-goes-{}", "K".repeat(LONG));
                    case.secrets.push(name.clone());
                    case.tree.insert(name, json!(1));
                }
                case
            })
    }

    #[test]
    fn a_long_unknown_key_is_not_shown() {
        // A fuzzing finding: an unknown key was quoted whatever its length,
        // so a key pasted on the wrong line reached the logs.
        let pasted = format!("sk-ant-api03-{}", "x".repeat(40));
        for text in [
            format!("{pasted}: 1\n"),
            format!("providers:\n  - name: a\n    enabled: true\n    keys:\n      - {pasted}:\n"),
        ] {
            let shown = load_str(&text, Format::Yaml, &|_| None)
                .unwrap_err()
                .to_string();
            assert!(!shown.contains(&pasted), "{shown}");
            assert!(
                shown.contains("<a key of 53 characters, not shown>: unknown key"),
                "{shown}"
            );
        }
    }

    fn check(text: &str, format: Format, case: &Case) -> Result<(), TestCaseError> {
        config_case(text, format, &case.env, &case.secrets).map_err(TestCaseError::fail)
    }

    proptest! {
        #![proptest_config(ProptestConfig { max_shrink_iters: 4096, ..ProptestConfig::default() })]

        #[test]
        fn generated_yaml(case in case(), pretty in any::<bool>()) {
            let value = Value::Object(case.tree.clone());
            let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
            check(&text.unwrap_or_default(), Format::Yaml, &case)?;
        }

        #[test]
        fn generated_toml(case in case()) {
            if let Ok(text) = toml::to_string(&Value::Object(case.tree.clone())) {
                check(&text, Format::Toml, &case)?;
            }
        }

        #[test]
        fn broken_files(case in case(), at in any::<prop::sample::Index>(), junk in "\\PC{0,4}", toml in any::<bool>()) {
            let value = Value::Object(case.tree.clone());
            let (text, format) = match toml::to_string(&value) {
                Ok(text) if toml => (text, Format::Toml),
                _ => (serde_json::to_string_pretty(&value).unwrap_or_default(), Format::Yaml),
            };
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let broken = format!("{}{junk}", &text[..at]);
            // A cut can leave a secret's prefix, never one in full.
            check(&broken, format, &case)?;
        }

        #[test]
        fn arbitrary_text(text in "\\PC{0,200}", toml in any::<bool>()) {
            let format = if toml { Format::Toml } else { Format::Yaml };
            check(&text, format, &Case::default())?;
        }

        #[test]
        fn yaml_like_text(
            lines in prop::collection::vec(
                (0..4usize, prop_oneof![
                    Just("server:"), Just("providers:"), Just("- name: a"), Just("keys:"),
                    Just("- key: k"), Just("type: anthropic"), Just("timeout_ms: 5"), Just("<<: *a"),
                    Just("&a {x: 1}"), Just("? [a]"), Just("!!binary aGk="), Just("'${X'"), Just("\"\\u"),
                    Just("[1, {a: ]"), Just("---"), Just("..."), Just("%YAML 1.1"), Just("*b"),
                ]),
                0..24,
            ),
        ) {
            let text: String = lines.iter().map(|(indent, line)| format!("{}{line}\n", "  ".repeat(*indent))).collect();
            check(&text, Format::Yaml, &Case::default())?;
        }
    }
}
