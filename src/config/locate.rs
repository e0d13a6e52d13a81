//! Finding the line and column of a field in a scenario file's text, for error messages.

/// 1-based (line, column) of the key that `path` (dotted, with `variants[i]` for the i-th
/// `[[variants]]` table) names in `src`, if it can be found. Handles `[table]` headers, `[[variants]]`
/// array tables, dotted keys and inline tables on one line.
pub(crate) fn locate(src: &str, path: &str) -> Option<(usize, usize)> {
    // Quoted keys ("noise.epsilon" in a sweep) are compared segment by segment like dotted keys.
    let parts: Vec<String> = path
        .replace('"', "")
        .split('.')
        .map(|s| s.to_string())
        .collect();
    let (variant, rest): (Option<usize>, &[String]) = match parts.first() {
        Some(p) if p.starts_with("variants[") => (
            p.trim_start_matches("variants[")
                .trim_end_matches(']')
                .parse()
                .ok(),
            &parts[1..],
        ),
        _ => (None, &parts[..]),
    };
    let mut header: Vec<String> = Vec::new();
    let mut in_variant: Option<usize> = None;
    let mut variant_count = 0usize;
    let mut best: Option<(usize, usize)> = None;
    let mut variant_header: Option<(usize, usize)> = None;
    for (no, raw) in src.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let t = line.trim();
        if t.starts_with("[[") {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            if name == "variants" {
                if variant == Some(variant_count) {
                    variant_header = Some((no + 1, 1));
                }
                in_variant = Some(variant_count);
                variant_count += 1;
                header.clear();
            } else {
                in_variant = None;
                header = name.split('.').map(|s| s.trim().to_string()).collect();
            }
            continue;
        }
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            let mut h: Vec<String> = name
                .split('.')
                .map(|s| s.trim().trim_matches('"').to_string())
                .collect();
            if h.first().map(String::as_str) == Some("variants") && in_variant.is_some() {
                h.remove(0);
            } else {
                in_variant = None;
            }
            header = h;
            if in_variant == variant && header == rest {
                return Some((no + 1, 1));
            }
            continue;
        }
        if in_variant != variant {
            continue;
        }
        let Some(eq) = line.find('=') else { continue };
        let key = line[..eq].trim().trim_matches('"');
        let mut full = header.clone();
        full.extend(
            key.split('.')
                .map(|s| s.trim().trim_matches('"').to_string()),
        );
        // Exact key match.
        if full == rest {
            return Some((no + 1, line.len() - line.trim_start().len() + 1));
        }
        // Inline table containing the remaining key: `noise = { kind = "…", sigma = 0.4 }`.
        if rest.len() > full.len() && rest[..full.len()] == full[..] {
            let inner = &rest[full.len()..];
            let last = inner.last()?;
            let after = &line[eq + 1..];
            let quoted = format!("\"{}\"", inner.join("."));
            if let Some(pos) = after.find(&quoted).or_else(|| find_key(after, last)) {
                return Some((no + 1, eq + 1 + pos + 1));
            }
            best.get_or_insert((no + 1, line.find(key).unwrap_or(0) + 1));
        }
        // The path names a table whose key is on this line (e.g. the whole `noise` table).
        if full.len() > rest.len() && full[..rest.len()] == rest[..] {
            best.get_or_insert((no + 1, line.find(key).unwrap_or(0) + 1));
        }
    }
    best.or(variant_header).or_else(|| {
        // A `[table]` header itself.
        src.lines()
            .position(|l| l.trim() == format!("[{}]", rest.join(".")))
            .map(|i| (i + 1, 1))
    })
}

fn find_key(s: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(key) {
        let at = from + i;
        let before = s[..at].chars().last();
        let after = s[at + key.len()..].trim_start().chars().next();
        if matches!(before, None | Some(' ' | '{' | ',')) && after == Some('=') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// 1-based (line, column) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_in_tables_inline_tables_and_variants() {
        let src = "name = \"x\"\n[noise]\nkind = \"stable\"\nalpha = 2.5\n\n[[variants]]\nlabel = \"a\"\nnoise = { kind = \"brownian\", sigma = -1 }\n[[variants]]\nlabel = \"b\"\n[variants.event]\nstart = 3\n";
        assert_eq!(locate(src, "noise.alpha"), Some((4, 1)));
        assert_eq!(locate(src, "name"), Some((1, 1)));
        assert_eq!(locate(src, "variants[0].noise.sigma"), Some((8, 30)));
        assert_eq!(locate(src, "variants[1].event.start"), Some((12, 1)));
        assert_eq!(locate(src, "noise"), Some((2, 1)));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
