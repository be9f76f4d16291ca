//! STAR files as RELION writes them: `data_` blocks holding either one `loop_` table or
//! `_key value` pairs.
//!
//! The syntax accepted (and written by [`write_star`]):
//! * `data_<name>` starts a block (the name may be empty); blocks may come in any order.
//! * `loop_` followed by `_column` lines (an optional `#n` index after each is a comment), then one
//!   row per line; every row must have exactly one value per column.
//! * `_key value` pairs in a block without a loop.
//! * Values are whitespace-separated; a value that starts with `'` or `"` runs to the matching
//!   quote followed by whitespace or the end of the line, so `" "` and `""` are a space and an
//!   empty value.
//! * `#` at the start of a token starts a comment (`# version 30001` lines are comments).
//!
//! Column and key names are stored without their leading underscore (`rlnAngleRot`). Values are
//! kept as text; [`Table::f64`] parses numbers with errors naming file, line, column and value.
//! Semicolon text fields, `save_` frames, `global_` blocks and blocks that mix pairs with a loop
//! (or hold two loops) are rejected with the line where they occur.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::IoError;
use crate::atomic::write_atomically;

/// A parsed STAR file.
#[derive(Debug, Clone, PartialEq)]
pub struct StarFile {
    /// The file it was read from (used in error messages).
    pub path: PathBuf,
    /// Blocks in file order.
    pub blocks: Vec<StarBlock>,
}

/// One `data_` block.
#[derive(Debug, Clone, PartialEq)]
pub struct StarBlock {
    /// The name after `data_` (may be empty).
    pub name: String,
    /// A table or key-value pairs.
    pub kind: BlockKind,
    /// 1-based source line of each row (loops) or pair; empty for blocks built in memory.
    pub lines: Vec<usize>,
}

/// The content of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockKind {
    /// A `loop_` table.
    Loop {
        /// Column names without the leading underscore.
        columns: Vec<String>,
        /// Rows of values, one value per column.
        rows: Vec<Vec<String>>,
    },
    /// `_key value` pairs in file order (keys without the leading underscore).
    Pairs(Vec<(String, String)>),
}

impl StarBlock {
    /// A loop block built in memory.
    pub fn new_loop(name: impl Into<String>, columns: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        Self {
            name: name.into(),
            kind: BlockKind::Loop { columns, rows },
            lines: Vec::new(),
        }
    }

    /// A key-value block built in memory.
    pub fn new_pairs(name: impl Into<String>, pairs: Vec<(String, String)>) -> Self {
        Self {
            name: name.into(),
            kind: BlockKind::Pairs(pairs),
            lines: Vec::new(),
        }
    }

    /// Index of a loop column (name without the underscore); `None` for pairs blocks.
    pub fn column_index(&self, column: &str) -> Option<usize> {
        match &self.kind {
            BlockKind::Loop { columns, .. } => columns.iter().position(|c| c == column),
            BlockKind::Pairs(_) => None,
        }
    }

    /// The value of a pair (key without the underscore); `None` for loop blocks.
    pub fn pair(&self, key: &str) -> Option<&str> {
        match &self.kind {
            BlockKind::Pairs(pairs) => pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            BlockKind::Loop { .. } => None,
        }
    }

    /// Number of loop rows (0 for pairs blocks).
    pub fn n_rows(&self) -> usize {
        match &self.kind {
            BlockKind::Loop { rows, .. } => rows.len(),
            BlockKind::Pairs(_) => 0,
        }
    }
}

impl StarFile {
    /// Read and parse a STAR file.
    ///
    /// # Errors
    /// [`IoError::Io`] when the file cannot be read; [`IoError::StarSyntax`] and
    /// [`IoError::RowLength`] (naming the line) for malformed content.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, IoError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| IoError::io(path, e))?;
        Self::parse(path, &text)
    }

    /// Parse STAR text; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`StarFile::read`], without the I/O part.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, IoError> {
        Parser::new(path.as_ref()).run(text)
    }

    /// The first block with this name (without `data_`).
    pub fn block(&self, name: &str) -> Option<&StarBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The loop block with this name, for typed access.
    ///
    /// # Errors
    /// [`IoError::MissingBlock`] when there is no loop block of that name.
    pub fn table(&self, name: &str) -> Result<Table<'_>, IoError> {
        self.block(name)
            .and_then(|b| Table::new(&self.path, b))
            .ok_or_else(|| IoError::MissingBlock {
                path: self.path.clone(),
                block: format!("data_{name} (loop)"),
            })
    }
}

/// Typed, error-reporting access to one loop block of a [`StarFile`].
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    path: &'a Path,
    block: &'a StarBlock,
    columns: &'a [String],
    rows: &'a [Vec<String>],
}

impl<'a> Table<'a> {
    /// View `block` (which must be a loop) of the file at `path`.
    pub fn new(path: &'a Path, block: &'a StarBlock) -> Option<Self> {
        match &block.kind {
            BlockKind::Loop { columns, rows } => Some(Self {
                path,
                block,
                columns,
                rows,
            }),
            BlockKind::Pairs(_) => None,
        }
    }

    /// The file the table came from.
    pub fn path(&self) -> &'a Path {
        self.path
    }

    /// The block's name.
    pub fn name(&self) -> &'a str {
        &self.block.name
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether the table has this column (name without the underscore).
    pub fn has_column(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }

    /// 1-based source line of `row`, or 0 for tables built in memory.
    pub fn line(&self, row: usize) -> usize {
        self.block.lines.get(row).copied().unwrap_or(0)
    }

    /// The text of `column` in `row`; `None` when the column (or row) does not exist.
    pub fn str(&self, row: usize, column: &str) -> Option<&'a str> {
        let c = self.columns.iter().position(|c| c == column)?;
        self.rows
            .get(row)
            .and_then(|r| r.get(c))
            .map(String::as_str)
    }

    /// The value of `column` in `row` as a finite `f64`; `Ok(None)` when the column is absent.
    ///
    /// # Errors
    /// [`IoError::BadValue`] naming file, line, column and text when the value is not a finite
    /// number.
    pub fn f64(&self, row: usize, column: &str) -> Result<Option<f64>, IoError> {
        let Some(text) = self.str(row, column) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.bad_value(row, column, text, "a finite number")),
        }
    }

    /// An [`IoError::BadValue`] for `text` in `row`, `column`.
    pub fn bad_value(
        &self,
        row: usize,
        column: &str,
        text: &str,
        expected: &'static str,
    ) -> IoError {
        IoError::BadValue {
            path: self.path.to_path_buf(),
            line: self.line(row),
            column: column.to_string(),
            value: text.to_string(),
            expected,
        }
    }
}

/// Split one line into tokens, honouring quotes and `#` comments.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            break;
        } else if c == '"' || c == '\'' {
            let start = i + 1;
            let mut j = start;
            loop {
                if j >= chars.len() {
                    return Err(format!("unterminated {c}-quoted value"));
                }
                if chars[j] == c && chars.get(j + 1).is_none_or(|n| n.is_whitespace()) {
                    break;
                }
                j += 1;
            }
            tokens.push(chars[start..j].iter().collect());
            i = j + 1;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        }
    }
    Ok(tokens)
}

fn is_keyword(token: &str, keyword: &str) -> bool {
    token.len() >= keyword.len()
        && token.is_char_boundary(keyword.len())
        && token[..keyword.len()].eq_ignore_ascii_case(keyword)
}

#[derive(PartialEq)]
enum State {
    Pairs,
    LoopHeader,
    LoopRows,
}

struct Parser<'p> {
    path: &'p Path,
    blocks: Vec<StarBlock>,
    state: State,
}

impl<'p> Parser<'p> {
    fn new(path: &'p Path) -> Self {
        Self {
            path,
            blocks: Vec::new(),
            state: State::Pairs,
        }
    }

    fn syntax(&self, line: usize, message: impl Into<String>) -> IoError {
        IoError::StarSyntax {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    fn run(mut self, text: &str) -> Result<StarFile, IoError> {
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.starts_with(';') {
                return Err(self.syntax(line, "semicolon text fields are not supported"));
            }
            let tokens = tokenize(raw).map_err(|m| self.syntax(line, m))?;
            let Some(first) = tokens.first() else {
                continue;
            };
            if is_keyword(first, "data_") {
                if tokens.len() > 1 {
                    return Err(self.syntax(line, "unexpected text after the data_ block name"));
                }
                self.blocks
                    .push(StarBlock::new_pairs(&first[5..], Vec::new()));
                self.state = State::Pairs;
            } else if first.eq_ignore_ascii_case("loop_") {
                self.start_loop(line, tokens.len())?;
            } else if is_keyword(first, "save_")
                || is_keyword(first, "global_")
                || is_keyword(first, "stop_")
            {
                return Err(self.syntax(line, format!("{first} is not supported")));
            } else if let Some(name) = first.strip_prefix('_') {
                self.name_line(line, name, &tokens)?;
            } else {
                self.row(line, tokens)?;
            }
        }
        Ok(StarFile {
            path: self.path.to_path_buf(),
            blocks: self.blocks,
        })
    }

    fn current(&mut self, line: usize, what: &str) -> Result<&mut StarBlock, IoError> {
        let err = self.syntax(line, format!("{what} before the first data_ block"));
        self.blocks.last_mut().ok_or(err)
    }

    fn start_loop(&mut self, line: usize, n_tokens: usize) -> Result<(), IoError> {
        if n_tokens > 1 {
            return Err(self.syntax(line, "unexpected text after loop_"));
        }
        let mixed = self.syntax(
            line,
            "a block with two loops, or with both pairs and a loop, is not supported",
        );
        let block = self.current(line, "loop_")?;
        match &block.kind {
            BlockKind::Pairs(pairs) if pairs.is_empty() => {}
            _ => return Err(mixed),
        }
        block.kind = BlockKind::Loop {
            columns: Vec::new(),
            rows: Vec::new(),
        };
        self.state = State::LoopHeader;
        Ok(())
    }

    fn name_line(&mut self, line: usize, name: &str, tokens: &[String]) -> Result<(), IoError> {
        if name.is_empty() {
            return Err(self.syntax(line, "empty name after _"));
        }
        match self.state {
            State::LoopHeader => {
                if tokens.len() > 1 {
                    return Err(self.syntax(line, format!("unexpected value after loop column _{name}")));
                }
                if let BlockKind::Loop { columns, .. } = &mut self.current(line, "_name")?.kind {
                    columns.push(name.to_string());
                }
                Ok(())
            }
            State::LoopRows => Err(self.syntax(
                line,
                format!("_{name} after the rows of a loop; a block with both pairs and a loop is not supported"),
            )),
            State::Pairs => {
                if tokens.len() != 2 {
                    return Err(self.syntax(
                        line,
                        format!("_{name} needs exactly one value on its line, found {}", tokens.len() - 1),
                    ));
                }
                let block = self.current(line, "_name")?;
                if let BlockKind::Pairs(pairs) = &mut block.kind {
                    pairs.push((name.to_string(), tokens[1].clone()));
                    block.lines.push(line);
                }
                Ok(())
            }
        }
    }

    fn row(&mut self, line: usize, tokens: Vec<String>) -> Result<(), IoError> {
        if self.state == State::Pairs {
            return Err(self.syntax(
                line,
                format!("value {:?} outside a loop and without a _name", tokens[0]),
            ));
        }
        let path = self.path.to_path_buf();
        let no_columns = self.syntax(line, "loop_ has no columns before its first row");
        let block = self.current(line, "a row")?;
        if let BlockKind::Loop { columns, rows } = &mut block.kind {
            if columns.is_empty() {
                return Err(no_columns);
            }
            if tokens.len() != columns.len() {
                return Err(IoError::RowLength {
                    path,
                    line,
                    expected: columns.len(),
                    found: tokens.len(),
                });
            }
            rows.push(tokens);
            block.lines.push(line);
        }
        self.state = State::LoopRows;
        Ok(())
    }
}

/// How to write `value` so that the parser reads it back unchanged.
fn quoted(value: &str) -> Option<String> {
    if value.contains(['\n', '\r']) {
        return None;
    }
    let needs_quotes = value.is_empty()
        || value.contains(char::is_whitespace)
        || value.starts_with(['#', '_', '\'', '"', ';'])
        || ["data_", "loop_", "save_", "global_", "stop_"]
            .iter()
            .any(|k| is_keyword(value, k));
    if !needs_quotes {
        return Some(value.to_string());
    }
    ['"', '\''].into_iter().find_map(|q| {
        let closes_early = value.ends_with(q)
            || value
                .char_indices()
                .any(|(i, c)| c == q && value[i + 1..].starts_with(char::is_whitespace));
        (!closes_early).then(|| format!("{q}{value}{q}"))
    })
}

fn check_name(path: &Path, what: &str, name: &str, allow_empty: bool) -> Result<(), IoError> {
    if (name.is_empty() && !allow_empty) || name.contains(char::is_whitespace) {
        return Err(IoError::invalid(
            path,
            format!("{what} {name:?} is empty or contains whitespace"),
        ));
    }
    Ok(())
}

fn encode(path: &Path, value: &str) -> Result<String, IoError> {
    quoted(value).ok_or_else(|| {
        IoError::invalid(
            path,
            format!("value {value:?} cannot be written to a STAR file"),
        )
    })
}

/// Write `blocks` as a STAR file, atomically; [`StarFile::read`] reads it back with the same
/// names, columns and values.
///
/// # Errors
/// [`IoError::InvalidArgument`] for names with whitespace, rows whose length differs from the
/// column count, or values with newlines (or both quote characters followed by whitespace);
/// [`IoError::Io`] when the file cannot be written.
pub fn write_star(path: impl AsRef<Path>, blocks: &[StarBlock]) -> Result<(), IoError> {
    let path = path.as_ref();
    let mut text = String::from("# written by cryorbf\n");
    for block in blocks {
        check_name(path, "block name", &block.name, true)?;
        text.push_str(&format!("\ndata_{}\n\n", block.name));
        match &block.kind {
            BlockKind::Loop { columns, rows } => {
                text.push_str("loop_\n");
                for (i, c) in columns.iter().enumerate() {
                    check_name(path, "column name", c, false)?;
                    text.push_str(&format!("_{c} #{}\n", i + 1));
                }
                for (r, row) in rows.iter().enumerate() {
                    if row.len() != columns.len() {
                        return Err(IoError::invalid(
                            path,
                            format!(
                                "block {}: row {r} has {} values for {} columns",
                                block.name,
                                row.len(),
                                columns.len()
                            ),
                        ));
                    }
                    let values = row
                        .iter()
                        .map(|v| encode(path, v))
                        .collect::<Result<Vec<_>, _>>()?;
                    text.push_str(&values.join(" "));
                    text.push('\n');
                }
            }
            BlockKind::Pairs(pairs) => {
                for (k, v) in pairs {
                    check_name(path, "key", k, false)?;
                    text.push_str(&format!("_{k} {}\n", encode(path, v)?));
                }
            }
        }
    }
    write_atomically(path, |out| out.write_all(text.as_bytes()))
}
