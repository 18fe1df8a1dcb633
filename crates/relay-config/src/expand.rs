//! `${VAR}` expansion in string values.
//!
//! Rules (also in docs/configuration.md):
//! - `${VAR}` is replaced by the variable's value. Unset, it expands to ""
//!   with a warning, as in the Go cc-relay, except under `server.auth`,
//!   `server.admin` and `server.api_key`: there it is an error, because an
//!   empty client or admin credential would turn the check off (fail closed).
//! - `${VAR:-default}` uses `default` (literal text, no nesting) when `VAR`
//!   is unset or empty.
//! - `$$` is a literal `$`, so `$${X}` writes `${X}`. Any other `$` is
//!   literal: `$NAME` is not expanded (keys and passwords contain `$`), and
//!   when `NAME` is set a warning says it was taken as written.
//! - Only string values are expanded: not keys, not comments, and not the
//!   expanded text again.
//!
//! Every bad reference in the whole tree is reported, not just the first.

use crate::error::Problem;
use crate::node::{Node, Origin, Text};
use crate::path::{Seg, render};
use crate::warning::{WarningKind, Warnings};

/// Looks a variable up; `None` when it is unset.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands every string value in `node`, adding one problem per bad
/// reference and one warning per unset (or unexpanded) variable.
pub(crate) fn expand_tree(
    node: &mut Node,
    env: Env<'_>,
    problems: &mut Vec<Problem>,
    warnings: &mut Warnings,
) {
    let mut out = Out { problems, warnings };
    walk(node, env, &mut Vec::new(), &mut out);
}

struct Out<'a> {
    problems: &'a mut Vec<Problem>,
    warnings: &'a mut Warnings,
}

/// Credentials that guard the relay itself: empty, they would switch a
/// check off, so an unset variable there stays an error.
fn guards_the_relay(at: &[Seg]) -> bool {
    matches!(
        at,
        [Seg::Key(server), Seg::Key(section), ..]
            if server == "server" && matches!(section.as_str(), "auth" | "admin" | "api_key")
    )
}

fn walk(node: &mut Node, env: Env<'_>, at: &mut Vec<Seg>, out: &mut Out<'_>) {
    match node {
        Node::Str(text) => {
            let expanded = expand(&text.value, env);
            let path = render(at);
            for message in expanded.errors {
                out.problems.push(Problem::new(path.clone(), message));
            }
            for name in expanded.unset {
                if guards_the_relay(at) {
                    out.problems.push(Problem::new(
                        path.clone(),
                        format!(
                            "environment variable {name} is not set: set it (an empty credential here would \
                             turn the relay's check off), or write `${{{name}:-}}` to leave it unset on purpose"
                        ),
                    ));
                } else {
                    out.warnings.add(
                        path.clone(),
                        WarningKind::Variable,
                        format!(
                            "environment variable {name} is not set, so it expands to \"\" (as in the Go cc-relay): \
                             set it, or write `${{{name}:-}}` if empty is meant"
                        ),
                    );
                }
            }
            for name in expanded.bare {
                out.warnings.add(
                    path.clone(),
                    WarningKind::Variable,
                    format!(
                        "`${name}` is taken literally (only `${{{name}}}` is expanded): write `${{{name}}}` to use \
                         the variable, or `$${name}` to keep the text and silence this"
                    ),
                );
            }
            *text = Text {
                value: expanded.value,
                origin: expanded.origin,
            };
        }
        Node::Seq(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                at.push(Seg::Index(index));
                walk(item, env, at, out);
                at.pop();
            }
        }
        Node::Map(map) => {
            for (key, value) in &mut map.entries {
                at.push(Seg::Key(key.clone()));
                walk(value, env, at, out);
                at.pop();
            }
        }
        Node::Null | Node::Bool(_) | Node::Int(_) | Node::UInt(_) | Node::Float(_) => {}
    }
}

/// One string after expansion.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Expanded {
    pub value: String,
    pub origin: Origin,
    /// One message per malformed reference.
    pub errors: Vec<String>,
    /// Variables referenced as `${NAME}` without a default and unset: each
    /// expanded to "".
    pub unset: Vec<String>,
    /// `$NAME` written without braces where `NAME` is set: left as written.
    pub bare: Vec<String>,
}

/// Expands one string value.
pub(crate) fn expand(input: &str, env: Env<'_>) -> Expanded {
    let mut out = String::with_capacity(input.len());
    let mut errors = Vec::new();
    let mut unset = Vec::new();
    let mut bare = Vec::new();
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
                Ok(Some(value)) => out.push_str(&value),
                Ok(None) => unset.push(body[..close].to_owned()),
                Err(message) => errors.push(message),
            }
            rest = &body[close + 1..];
        } else {
            let name_len = after
                .char_indices()
                .find(|&(i, c)| {
                    !(c.is_ascii_alphanumeric() || c == '_') || (i == 0 && c.is_ascii_digit())
                })
                .map_or(after.len(), |(i, _)| i);
            let name = &after[..name_len];
            if !name.is_empty() && env(name).is_some() && !bare.iter().any(|b| b == name) {
                bare.push(name.to_owned());
            }
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
    Expanded {
        value: out,
        origin,
        errors,
        unset,
        bare,
    }
}

/// The value of one `${...}` reference, given what is between the braces;
/// `None` when the variable is unset and has no default.
fn resolve(reference: &str, env: Env<'_>) -> Result<Option<String>, String> {
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
    Ok(match (env(name), default) {
        (Some(value), Some(default)) if value.is_empty() => Some(default.to_owned()),
        (Some(value), _) => Some(value),
        (None, Some(default)) => Some(default.to_owned()),
        (None, None) => None,
    })
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
        let e = expand(input, &env);
        (e.value, e.origin, e.errors)
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
        assert!(expand("$$A", &env).bare.is_empty());
    }

    #[test]
    fn unset_variables_expand_to_empty_and_are_listed() {
        let e = expand("${X1}:${A}:${X2}", &env);
        assert_eq!(e.value, ":alpha:");
        assert!(e.errors.is_empty());
        assert_eq!(e.unset, ["X1", "X2"]);
    }

    #[test]
    fn bare_dollar_names_are_literal_and_noticed_when_set() {
        let e = expand("$A and $NOPE and $1", &env);
        assert_eq!(e.value, "$A and $NOPE and $1");
        assert_eq!(e.bare, ["A"]);
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(run("${A").2[0].contains("unterminated"));
        assert!(run("${}").2[0].contains("not a valid reference"));
        assert!(run("${1X}").2[0].contains("not a valid reference"));
        assert!(run("${A B}").2[0].contains("not a valid reference"));
    }

    #[test]
    fn tree_problems_and_warnings_carry_paths() {
        let mut node = crate::node::from_yaml(
            "p: [ { keys: [ { key: '${K1}' } ] }, { n: '${K2} ${A' } ]\n\
             server: { auth: { api_key: '${K4}' }, admin: { token: '${K5}' }, api_key: '${K6}', timeout_ms: '${K7}' }",
        )
        .unwrap();
        let mut problems = Vec::new();
        let mut warnings = Warnings::default();
        expand_tree(&mut node, &env, &mut problems, &mut warnings);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "p[1].n",
                "server.auth.api_key",
                "server.admin.token",
                "server.api_key"
            ]
        );
        assert!(problems[1].message.contains("K4 is not set"));
        let warned: Vec<_> = warnings.0.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(warned, ["p[0].keys[0].key", "p[1].n", "server.timeout_ms"]);
        assert!(warnings.0[0].message.contains("K1 is not set"));
    }
}
