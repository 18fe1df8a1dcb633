//! `${VAR}` expansion in string values.
//!
//! Rules (also in docs/configuration.md):
//! - `${VAR}` is replaced by the variable's value; unset is an error.
//! - `${VAR:-default}` uses `default` (literal text, no nesting) when `VAR`
//!   is unset or empty.
//! - `$$` is a literal `$`, so `$${X}` writes `${X}`. Any other `$` is literal.
//! - Only string values are expanded: not keys, not comments, and not the
//!   expanded text again.
//!
//! Every bad reference in the whole tree is reported, not just the first.

use crate::error::Problem;
use crate::node::{Node, Origin, Text};
use crate::path::{Seg, render};

/// Looks a variable up; `None` when it is unset.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands every string value in `node`, adding one problem per bad reference.
pub(crate) fn expand_tree(node: &mut Node, env: Env<'_>, problems: &mut Vec<Problem>) {
    walk(node, env, &mut Vec::new(), problems);
}

fn walk(node: &mut Node, env: Env<'_>, at: &mut Vec<Seg>, problems: &mut Vec<Problem>) {
    match node {
        Node::Str(text) => {
            let (value, origin, errors) = expand(&text.value, env);
            for message in errors {
                problems.push(Problem::new(render(at), message));
            }
            *text = Text { value, origin };
        }
        Node::Seq(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                at.push(Seg::Index(index));
                walk(item, env, at, problems);
                at.pop();
            }
        }
        Node::Map(map) => {
            for (key, value) in &mut map.entries {
                at.push(Seg::Key(key.clone()));
                walk(value, env, at, problems);
                at.pop();
            }
        }
        Node::Null | Node::Bool(_) | Node::Int(_) | Node::UInt(_) | Node::Float(_) => {}
    }
}

/// The expanded text, where it came from, and one message per bad reference
/// (a missing variable expands to "" so the rest can still be checked).
pub(crate) fn expand(input: &str, env: Env<'_>) -> (String, Origin, Vec<String>) {
    let mut out = String::with_capacity(input.len());
    let mut errors = Vec::new();
    let mut references = 0;
    let mut whole = false;
    let mut rest = input;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(close) = body.find('}') else {
                errors.push(
                    "unterminated `${`: close it with `}`, or write `$${` for a literal `${`"
                        .to_owned(),
                );
                out.push_str(&rest[dollar..]);
                rest = "";
                break;
            };
            references += 1;
            // Whole: this reference is the entire input, nothing before or after.
            whole = dollar == 0 && rest.len() == input.len() && close + 1 == body.len();
            match resolve(&body[..close], env) {
                Ok(value) => out.push_str(&value),
                Err(message) => errors.push(message),
            }
            rest = &body[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    let origin = match references {
        0 => Origin::Literal,
        1 if whole => Origin::Whole,
        _ => Origin::Expanded,
    };
    (out, origin, errors)
}

/// The value of one `${...}` reference, given what is between the braces.
fn resolve(reference: &str, env: Env<'_>) -> Result<String, String> {
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    if !is_variable_name(name) {
        return Err(format!(
            "`${{{reference}}}` is not a valid reference: write `${{NAME}}` or `${{NAME:-default}}`, \
             where NAME is letters, digits and `_` (or `$${{` for a literal `${{`)"
        ));
    }
    match (env(name), default) {
        (Some(value), Some(default)) if value.is_empty() => Ok(default.to_owned()),
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(format!(
            "environment variable {name} is not set: set it, or write `${{{name}:-default}}` to make it optional"
        )),
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "B" => Some("beta".into()),
            "EMPTY" => Some(String::new()),
            "RPM" => Some("50".into()),
            _ => None,
        }
    }

    fn run(input: &str) -> (String, Origin, Vec<String>) {
        expand(input, &env)
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(
            run("no vars, $5 and a$b"),
            ("no vars, $5 and a$b".into(), Origin::Literal, vec![])
        );
        assert_eq!(run("trailing $").0, "trailing $");
    }

    #[test]
    fn expands_several_references() {
        assert_eq!(
            run("Bearer ${A}-${B}"),
            ("Bearer alpha-beta".into(), Origin::Expanded, vec![])
        );
    }

    #[test]
    fn a_lone_reference_is_whole() {
        assert_eq!(run("${RPM}"), ("50".into(), Origin::Whole, vec![]));
        assert_eq!(run("${RPM}x").1, Origin::Expanded);
        assert_eq!(run("x${RPM}").1, Origin::Expanded);
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(run("${NOPE:-fallback}").0, "fallback");
        assert_eq!(run("${EMPTY:-fallback}").0, "fallback");
        assert_eq!(run("${A:-fallback}").0, "alpha");
        assert_eq!(run("${NOPE:-}"), (String::new(), Origin::Whole, vec![]));
        // Without a default, set-but-empty is just empty.
        assert_eq!(run("${EMPTY}"), (String::new(), Origin::Whole, vec![]));
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(
            run("$${A} costs $$5"),
            ("${A} costs $5".into(), Origin::Literal, vec![])
        );
    }

    #[test]
    fn every_missing_variable_is_reported() {
        let (_, _, errors) = run("${X1}:${A}:${X2}");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("environment variable X1 is not set"));
        assert!(errors[1].starts_with("environment variable X2 is not set"));
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(run("${A").2[0].contains("unterminated"));
        assert!(run("${}").2[0].contains("not a valid reference"));
        assert!(run("${1X}").2[0].contains("not a valid reference"));
        assert!(run("${A B}").2[0].contains("not a valid reference"));
    }

    #[test]
    fn tree_problems_carry_paths() {
        let mut node =
            crate::node::from_yaml("p: [ { keys: [ { key: '${K1}' } ] }, { n: '${K2} ${K3}' } ]")
                .unwrap();
        let mut problems = Vec::new();
        expand_tree(&mut node, &env, &mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["p[0].keys[0].key", "p[1].n", "p[1].n"]);
        assert!(problems[2].message.contains("K3"));
    }
}
