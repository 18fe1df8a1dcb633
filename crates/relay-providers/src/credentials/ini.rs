//! The INI dialect of `~/.aws/credentials` and `~/.aws/config`, as far as
//! static keys need: `[section]` headers, `key = value` lines, full-line `#`
//! and `;` comments. Indented lines are nested sub-settings (e.g. under
//! `s3 =`) and are skipped.

use std::collections::HashMap;

/// The settings of `[name]` (whitespace inside the brackets ignored); repeated
/// sections merge, later values winning. `None` when the section is absent.
pub(crate) fn section(text: &str, name: &str) -> Option<HashMap<String, String>> {
    let mut found: Option<HashMap<String, String>> = None;
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let header = header.split(']').next().unwrap_or_default();
            let header: Vec<&str> = header.split_whitespace().collect();
            inside = header.join(" ") == name;
            if inside && found.is_none() {
                found = Some(HashMap::new());
            }
            continue;
        }
        if !inside {
            continue;
        }
        if let (Some(settings), Some((key, value))) = (found.as_mut(), line.split_once('=')) {
            settings.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key=secret/with+chars==
; another comment
[profile  work ]
region = eu-west-1
s3 =
  max_concurrent_requests = 20
AWS_Session_Token = tok
[default]
aws_session_token = later
";

    #[test]
    fn reads_sections_keys_and_skips_nesting() {
        let default = section(TEXT, "default").unwrap();
        assert_eq!(default["aws_access_key_id"], "AKIDDEFAULT");
        assert_eq!(default["aws_secret_access_key"], "secret/with+chars==");
        assert_eq!(default["aws_session_token"], "later");
        let work = section(TEXT, "profile work").unwrap();
        assert_eq!(work["region"], "eu-west-1");
        assert_eq!(work["s3"], "");
        assert_eq!(work["aws_session_token"], "tok");
        assert!(!work.contains_key("max_concurrent_requests"));
        assert!(section(TEXT, "work").is_none());
        assert!(section("", "default").is_none());
    }
}
