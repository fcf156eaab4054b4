//! Unified diffs of a file before and after its edits, built from the edits
//! themselves (no general diff needed: kmsguard knows what it changed).

use std::ops::Range;

use super::Edit;
use crate::source::{line_after, line_start};

const CONTEXT: usize = 3;

/// The 0-based line of `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map(|t| t.matches('\n').count()).unwrap_or(0)
}

/// The old text's bytes an edit touches, widened to whole lines. A pure
/// insertion at a line start touches no old line.
fn region(text: &str, e: &Edit) -> Range<usize> {
    let start = line_start(text, e.range.start);
    if e.range.is_empty() && e.range.start == start {
        return start..start;
    }
    let last = if e.range.end > e.range.start {
        e.range.end - 1
    } else {
        e.range.end
    };
    start..line_after(text, last)
}

/// Applies `edits` (sorted, not overlapping) to `text[base..]`-relative ranges.
pub fn apply(text: &str, edits: &[&Edit], within: Range<usize>) -> String {
    let mut out = String::new();
    let mut at = within.start;
    for e in edits {
        out.push_str(text.get(at..e.range.start).unwrap_or(""));
        out.push_str(&e.text);
        at = e.range.end;
    }
    out.push_str(text.get(at..within.end).unwrap_or(""));
    out
}

fn lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// `--- a/path` / `+++ b/path` and the hunks of one file.
pub fn unified(path: &str, text: &str, edits: &[Edit]) -> String {
    let mut refs: Vec<&Edit> = edits.iter().collect();
    refs.sort_by_key(|e| (e.range.start, e.range.end));
    // Group edits whose regions lie within two contexts of each other.
    let mut groups: Vec<(Range<usize>, Vec<&Edit>)> = Vec::new();
    for e in refs {
        let r = region(text, e);
        match groups.last_mut() {
            Some((g, list)) if line_of(text, r.start) <= line_of(text, g.end) + 2 * CONTEXT => {
                g.end = g.end.max(r.end);
                g.start = g.start.min(r.start);
                list.push(e);
            }
            _ => groups.push((r, vec![e])),
        }
    }
    let all_old = lines(text);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let mut shift: isize = 0;
    for (g, list) in groups {
        let old_region = text.get(g.clone()).unwrap_or("");
        let new_region = apply(text, &list, g.clone());
        let mut old_l = lines(old_region);
        let mut new_l = lines(&new_region);
        let mut first = line_of(text, g.start);
        // Lines the edits left as they were are context, not changes.
        while let (Some(a), Some(b)) = (old_l.first(), new_l.first()) {
            if a != b {
                break;
            }
            old_l.remove(0);
            new_l.remove(0);
            first += 1;
        }
        while let (Some(a), Some(b)) = (old_l.last(), new_l.last()) {
            if a != b {
                break;
            }
            old_l.pop();
            new_l.pop();
        }
        let before_from = first.saturating_sub(CONTEXT);
        let after_to = (first + old_l.len() + CONTEXT).min(all_old.len());
        let before = all_old.get(before_from..first).unwrap_or_default();
        let after = all_old.get(first + old_l.len()..after_to).unwrap_or_default();
        let old_count = before.len() + old_l.len() + after.len();
        let new_count = before.len() + new_l.len() + after.len();
        let old_start = if old_count == 0 { before_from } else { before_from + 1 };
        let new_start = (before_from as isize + shift + isize::from(new_count != 0)).max(0);
        out.push_str(&format!("@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"));
        let mut push = |mark: char, l: &str| {
            out.push(mark);
            out.push_str(l);
            if !l.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        };
        for l in before {
            push(' ', l);
        }
        for (mark, l) in align(&old_l, &new_l) {
            push(mark, l);
        }
        for l in after {
            push(' ', l);
        }
        shift += new_l.len() as isize - old_l.len() as isize;
    }
    out
}

/// The lines of a changed region as kept (` `), removed (`-`) and added
/// (`+`): a longest common subsequence, so that lines between two edits of
/// one hunk show as context. Regions are a few lines; a huge one is shown
/// as removed and added whole.
// Every index is bounded by the loops (`i < n`, `j < m`, a table of
// `(n + 1) × (m + 1)`) and none comes from input: the textbook LCS reads
// clearer indexed than through `get`.
#[allow(clippy::indexing_slicing)]
fn align<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > 1_000_000 {
        return old.iter().map(|l| ('-', *l)).chain(new.iter().map(|l| ('+', *l))).collect();
    }
    // lcs[i][j]: the common subsequence length of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push((' ', old[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(('+', new[j]));
            j += 1;
        } else {
            out.push(('-', old[i]));
            i += 1;
        }
    }
    // Removals before additions within a run of changes, as diff(1) prints them.
    let mut k = 0;
    while k < out.len() {
        if out[k].0 == ' ' {
            k += 1;
            continue;
        }
        let end = out[k..].iter().position(|(c, _)| *c == ' ').map_or(out.len(), |p| k + p);
        out[k..end].sort_by_key(|(c, _)| *c != '-');
        k = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(range: Range<usize>, text: &str) -> Edit {
        Edit { range, text: text.into() }
    }

    #[test]
    fn an_insertion_shows_added_lines_with_context() {
        let text = "a\nb\nc\nd\n";
        let d = unified("f.tf", text, &[edit(4..4, "x\ny\n")]);
        assert_eq!(d, "--- a/f.tf\n+++ b/f.tf\n@@ -1,4 +1,6 @@\n a\n b\n+x\n+y\n c\n d\n");
    }

    #[test]
    fn a_replacement_inside_a_line_shows_the_line_changed() {
        let text = "1\n2\n3\n4\n5\nhop = \"VirtualAppliance\"\n6\n";
        let at = text.find("VirtualAppliance").unwrap_or_default();
        let d = unified("f.tf", text, &[edit(at..at + 16, "Internet")]);
        assert_eq!(
            d,
            "--- a/f.tf\n+++ b/f.tf\n@@ -3,5 +3,5 @@\n 3\n 4\n 5\n-hop = \"VirtualAppliance\"\n+hop = \"Internet\"\n 6\n"
        );
    }
}
