//! A small strict reader for numeric CSV files (RFC 4180 quoting, optional header, plain or
//! gzip-compressed).
//!
//! Strict means: every record has as many fields as the first; every data field is a finite
//! number (surrounding spaces and tabs are allowed); quotes follow RFC 4180; the text is UTF-8
//! (a leading byte-order mark is skipped); only the end of the file may be blank. Anything else
//! is an error naming the file, the line and the column.

use super::TensorDataset;
use crate::{NnError, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use strata_tensor::{DType, Tensor};

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    /// Whether the first record (after `skip_lines`) is a header of column names (default:
    /// yes). The header must have as many fields as the data.
    pub has_header: bool,
    /// Lines to ignore at the start (e.g. 1 for scikit-learn's CSVs, whose first line is
    /// `n_samples,n_features,class names…`).
    pub skip_lines: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            has_header: true,
            skip_lines: 0,
        }
    }
}

/// A numeric table: `values` holds `rows × cols` numbers in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Csv {
    pub source: PathBuf,
    pub header: Option<Vec<String>>,
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
}

/// How a target column is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Class indices: integers `0..num_classes` (i64 targets `[N]`).
    Class { num_classes: usize },
    /// Real values (targets `[N, 1]` in the inputs' dtype).
    Value,
}

/// Reads a CSV file (gzip-compressed if it starts with the gzip magic).
pub fn read_csv(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Csv> {
    let path = path.as_ref();
    let raw =
        std::fs::read(path).map_err(|e| NnError::file(path, "", format!("cannot read: {e}")))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| NnError::file(path, "gzip stream", e.to_string()))?;
        out
    } else {
        raw
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| NnError::file(path, format!("byte {}", e.valid_up_to()), "invalid UTF-8"))?;
    parse_csv(text, path, opts)
}

/// Parses CSV text; `source` names it in errors.
pub fn parse_csv(text: &str, source: impl AsRef<Path>, opts: &CsvOptions) -> Result<Csv> {
    let source = source.as_ref();
    let mut text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for skipped in 0..opts.skip_lines {
        match text.split_once('\n') {
            Some((_, rest)) => text = rest,
            None if skipped + 1 == opts.skip_lines => text = "",
            None => {
                return Err(NnError::file(
                    source,
                    "",
                    format!("has fewer than the {} lines to skip", opts.skip_lines),
                ))
            }
        }
    }
    let records = split_records(text, source, opts.delimiter, opts.skip_lines + 1)?;
    let mut iter = records.into_iter();
    let header = if opts.has_header {
        match iter.next() {
            Some((_, fields)) => Some(fields),
            None => return Err(NnError::file(source, "", "empty file: no header")),
        }
    } else {
        None
    };
    let mut cols = header.as_ref().map(Vec::len);
    let mut values = Vec::new();
    let mut rows = 0;
    for (line, fields) in iter {
        let expected = *cols.get_or_insert(fields.len());
        if fields.len() != expected {
            return Err(NnError::file(
                source,
                format!("line {line}"),
                format!("{} fields, expected {expected}", fields.len()),
            ));
        }
        for (c, f) in fields.iter().enumerate() {
            let t = f.trim_matches([' ', '\t']);
            let v: f64 = t.parse().map_err(|_| {
                NnError::file(
                    source,
                    format!("line {line}, column {}", c + 1),
                    if t.is_empty() {
                        "empty field".to_string()
                    } else {
                        format!("{t:?} is not a number")
                    },
                )
            })?;
            if !v.is_finite() {
                return Err(NnError::file(
                    source,
                    format!("line {line}, column {}", c + 1),
                    format!("{t:?} is not a finite number"),
                ));
            }
            values.push(v);
        }
        rows += 1;
    }
    Ok(Csv {
        source: source.to_path_buf(),
        header,
        rows,
        cols: cols.unwrap_or(0),
        values,
    })
}

/// Splits text into records of fields, each with its starting line (1-based).
fn split_records(
    text: &str,
    source: &Path,
    delim: u8,
    first_line: usize,
) -> Result<Vec<(usize, Vec<String>)>> {
    let delim = char::from(delim);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = first_line;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    let open_line = line;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(NnError::file(
                                    source,
                                    format!("line {open_line}"),
                                    "unterminated quoted field",
                                ))
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some('\n') | Some('\r') => {}
                        Some(&c) if c == delim => {}
                        Some(&c) => {
                            return Err(NnError::file(
                                source,
                                format!("line {line}, column {}", fields.len() + 1),
                                format!("{c:?} after a closing quote"),
                            ))
                        }
                    }
                }
                Some('"') => {
                    return Err(NnError::file(
                        source,
                        format!("line {line}, column {}", fields.len() + 1),
                        "a quote inside an unquoted field",
                    ))
                }
                Some(c) if c == delim => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    fields.push(std::mem::take(&mut field));
                    line += 1;
                    break;
                }
                Some(c) => {
                    if quoted_field {
                        return Err(NnError::file(
                            source,
                            format!("line {line}, column {}", fields.len() + 1),
                            format!("{c:?} after a closing quote"),
                        ));
                    }
                    field.push(c);
                }
            }
        }
        if fields.len() == 1 && fields[0].is_empty() && !quoted_field {
            // A blank line: allowed only at the end of the file.
            if chars.clone().any(|c| !c.is_whitespace()) {
                return Err(NnError::file(
                    source,
                    format!("line {start_line}"),
                    "blank line inside the data",
                ));
            }
            break;
        }
        records.push((start_line, fields));
    }
    Ok(records)
}

impl Csv {
    /// The index of the column named `name` in the header.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        let header = self.header.as_ref().ok_or_else(|| {
            NnError::file(
                &self.source,
                "",
                format!("no header to find column {name:?} in"),
            )
        })?;
        header.iter().position(|h| h == name).ok_or_else(|| {
            NnError::file(
                &self.source,
                "header",
                format!("no column {name:?} (columns: {})", header.join(", ")),
            )
        })
    }
    /// The whole table as `[rows, cols]` of `dtype` (f32 or f64).
    pub fn to_tensor(&self, dtype: DType) -> Result<Tensor> {
        Ok(Tensor::from_vec(self.values.clone(), [self.rows, self.cols])?.to_dtype(dtype)?)
    }
    /// Inputs from every column but `target_col` (`[N, cols − 1]` of `dtype`), targets from
    /// `target_col` as `target` says. A class value that is not an integer in range is an error
    /// naming its line.
    pub fn to_dataset(
        &self,
        target_col: usize,
        target: Target,
        dtype: DType,
    ) -> Result<TensorDataset> {
        if target_col >= self.cols {
            return Err(NnError::file(
                &self.source,
                "",
                format!(
                    "target column {target_col} is out of range for {} columns",
                    self.cols
                ),
            ));
        }
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(NnError::invalid(
                "Csv::to_dataset",
                format!("dtype {dtype} is not f32 or f64"),
            ));
        }
        let mut x = Vec::with_capacity(self.rows * (self.cols - 1));
        let mut y = Vec::with_capacity(self.rows);
        for r in 0..self.rows {
            let row = &self.values[r * self.cols..(r + 1) * self.cols];
            for (c, &v) in row.iter().enumerate() {
                if c != target_col {
                    x.push(v);
                }
            }
            y.push(row[target_col]);
            if let Target::Class { num_classes } = target {
                let v = row[target_col];
                if v.fract() != 0.0 || v < 0.0 || v >= num_classes as f64 {
                    return Err(NnError::file(
                        &self.source,
                        format!("data row {}", r + 1),
                        format!("class {v} is not an integer in 0..{num_classes}"),
                    ));
                }
            }
        }
        let inputs = Tensor::from_vec(x, [self.rows, self.cols - 1])?.to_dtype(dtype)?;
        let targets = match target {
            Target::Class { .. } => Tensor::from_vec(
                y.into_iter().map(|v| v as i64).collect::<Vec<_>>(),
                [self.rows],
            )?,
            Target::Value => Tensor::from_vec(y, [self.rows, 1])?.to_dtype(dtype)?,
        };
        TensorDataset::new(inputs, targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    fn parse(text: &str, has_header: bool) -> Result<Csv> {
        parse_csv(
            text,
            "t.csv",
            &CsvOptions {
                has_header,
                ..CsvOptions::default()
            },
        )
    }

    #[test]
    fn reads_numbers_quotes_and_crlf() {
        let c = parse(
            "a,\"b, \"\"quoted\"\"\",c\r\n1, 2.5 ,-3e2\r\n\"4\",5,6\r\n",
            true,
        )
        .unwrap();
        assert_eq!(c.header.as_deref().unwrap(), ["a", "b, \"quoted\"", "c"]);
        assert_eq!((c.rows, c.cols), (2, 3));
        assert_eq!(c.values, [1.0, 2.5, -300.0, 4.0, 5.0, 6.0]);
        assert_eq!(c.column_index("c").unwrap(), 2);
        assert!(c
            .column_index("d")
            .unwrap_err()
            .to_string()
            .contains("columns: a"));
        let c = parse("1,2\n3,4", false).unwrap();
        assert_eq!(c.values, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn malformed_input_names_line_and_column() {
        let cases = [
            ("a,b\n1,2\n3\n", "line 3: 1 fields, expected 2"),
            ("a,b\n1,x\n", "line 2, column 2: \"x\" is not a number"),
            ("a,b\n1,\n", "line 2, column 2: empty field"),
            ("a,b\n1,nan\n", "not a finite number"),
            ("a,b\n1,2\n\n3,4\n", "line 3: blank line"),
            ("a,b\n\"1,2\n", "line 2: unterminated"),
            ("a,b\n1\"2,3\n", "line 2, column 1: a quote inside"),
            (
                "a,b\n\"1\"x,3\n",
                "line 2, column 1: 'x' after a closing quote",
            ),
            ("", "empty file"),
        ];
        for (text, want) in cases {
            let e = parse(text, true).unwrap_err().to_string();
            assert!(
                e.starts_with("t.csv: ") && e.contains(want),
                "{text:?}: {e}"
            );
        }
        // Skipped lines still count in line numbers.
        let opts = CsvOptions {
            skip_lines: 1,
            ..CsvOptions::default()
        };
        let e = parse_csv("150,4,x\na,b\n1,x\n", "s.csv", &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 2"), "{e}");
        assert!(parse_csv(
            "one line",
            "s.csv",
            &CsvOptions {
                skip_lines: 3,
                ..opts
            }
        )
        .unwrap_err()
        .to_string()
        .contains("fewer than the 3 lines"));
    }

    #[test]
    fn dataset_from_a_target_column() {
        let c = parse("x,y,label\n0.5,1,2\n1.5,2,0\n", true).unwrap();
        let d = c
            .to_dataset(2, Target::Class { num_classes: 3 }, DType::F32)
            .unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.inputs().to_vec::<f32>().unwrap(), [0.5, 1.0, 1.5, 2.0]);
        assert_eq!(d.targets().to_vec::<i64>().unwrap(), [2, 0]);
        let e = c
            .to_dataset(2, Target::Class { num_classes: 2 }, DType::F32)
            .unwrap_err()
            .to_string();
        assert!(e.contains("class 2 is not an integer in 0..2"), "{e}");
        let d = c.to_dataset(0, Target::Value, DType::F64).unwrap();
        assert_eq!(d.targets().dims(), &[2, 1]);
        assert_eq!(d.inputs().to_vec::<f64>().unwrap(), [1.0, 2.0, 2.0, 0.0]);
    }
}
