//! Numeric CSV tables: rows of numbers into a `[rows, columns]` feature tensor, with an
//! optional header line and an optional label column split off into a `[rows]` tensor.
//!
//! Read: lines end in `\n` or `\r\n`; the last line may lack its newline. Fields are split on
//! the delimiter (`,` by default); a field may be double-quoted (`""` is a quote inside one),
//! and spaces and tabs around an unquoted field are ignored. Every row must have as many
//! fields as the first line. Numbers parse straight into the target dtype, correctly rounded
//! once (an f32 column is never parsed through f64); `nan`, `inf` and `-inf` are accepted for
//! float columns. An i64 column accepts integer text and decimal text whose value is an exact
//! integer (`3.000000000000000000e+00`, as `numpy.savetxt` writes), never a rounded one. Empty
//! fields (missing values), blank lines and text that is not a number are errors naming the
//! line, the column and the problem. Lines starting with the comment byte, if one is set, are
//! skipped (`numpy.savetxt` writes its header as `# a,b,c`).
//!
//! Write: [`write_csv`] writes a rank-2 tensor with an optional header, one row per line, each
//! number in the shortest form that reads back to the same value, atomically.

use crate::file::{display_name, read_file, write_atomically};
use crate::IoError;
use std::path::Path;
use strata_tensor::{DType, Tensor};

/// Which column holds the labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column at this 0-based index.
    Index(usize),
    /// The column with this header name (needs `header: true`).
    Name(String),
    /// The last column.
    Last,
}

/// How [`read_csv`] reads a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The first (non-comment) line names the columns.
    pub header: bool,
    pub delimiter: u8,
    /// Lines starting with this byte are skipped.
    pub comment: Option<u8>,
    /// The column split off as labels, if any.
    pub label: Option<LabelColumn>,
    /// The features' dtype: f32, f64 or i64.
    pub dtype: DType,
    /// The labels' dtype: f32, f64 or i64.
    pub label_dtype: DType,
}

impl Default for CsvOptions {
    /// No header, comma-separated, no comments, no label column, f32 features, i64 labels.
    fn default() -> CsvOptions {
        CsvOptions {
            header: false,
            delimiter: b',',
            comment: None,
            label: None,
            dtype: DType::F32,
            label_dtype: DType::I64,
        }
    }
}

/// A table read by [`read_csv`].
#[derive(Clone, Debug)]
pub struct CsvTable {
    /// The feature columns' names, when the file has a header.
    pub columns: Option<Vec<String>>,
    /// `[rows, feature columns]`.
    pub features: Tensor,
    /// The label column's name, when the file has a header and a label column was chosen.
    pub label_name: Option<String>,
    /// `[rows]`, when a label column was chosen.
    pub labels: Option<Tensor>,
}

/// Reads the CSV file at `path`.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvTable, IoError> {
    let path = path.as_ref();
    read_csv_bytes(&read_file(path)?, &display_name(path), options)
}

/// Values of one column type, parsed as they come.
enum Column {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Column {
    fn new(dtype: DType) -> Option<Column> {
        match dtype {
            DType::F32 => Some(Column::F32(Vec::new())),
            DType::F64 => Some(Column::F64(Vec::new())),
            DType::I64 => Some(Column::I64(Vec::new())),
            _ => None,
        }
    }

    /// Parses `text` and appends it, or says why it is not a value of this type.
    fn push(&mut self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err("empty field (missing values are not supported)".to_owned());
        }
        let not = |what: &str| format!("{text:?} is not {what}");
        match self {
            Column::F32(v) => v.push(text.parse().map_err(|_| not("a number"))?),
            Column::F64(v) => v.push(text.parse().map_err(|_| not("a number"))?),
            Column::I64(v) => v.push(match text.parse::<i64>() {
                Ok(n) => n,
                Err(_) => exact_integer(text).ok_or_else(|| {
                    if text.parse::<f64>().is_ok() {
                        format!("{text:?} is not an integer that fits i64")
                    } else {
                        not("a number")
                    }
                })?,
            }),
        }
        Ok(())
    }

    fn into_tensor(self, dims: Vec<usize>) -> strata_tensor::Result<Tensor> {
        match self {
            Column::F32(v) => Tensor::from_vec(v, dims),
            Column::F64(v) => Tensor::from_vec(v, dims),
            Column::I64(v) => Tensor::from_vec(v, dims),
        }
    }
}

/// The value of decimal text (`[+-]digits[.digits][e[+-]digits]`) when it is exactly an
/// integer that fits i64.
fn exact_integer(text: &str) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // The digits without the point, and where the point falls after applying the exponent.
    let digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = i64::try_from(whole.len()).ok()? + i64::from(exponent);
    let mut value: i128 = 0;
    for (i, &d) in digits.iter().enumerate() {
        if (i as i64) < point {
            value = value.checked_mul(10)?.checked_add(i128::from(d))?;
            if value > i128::from(i64::MAX) + 1 {
                return None;
            }
        } else if d != 0 {
            return None;
        }
    }
    // Trailing zeros implied by a point beyond the digits.
    for _ in 0..(point - digits.len() as i64).max(0) {
        if value == 0 {
            break;
        }
        value = value.checked_mul(10)?;
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// Splits `line` into fields; the error is the 1-based field number and the problem.
fn split_fields(line: &str, delimiter: u8) -> Result<Vec<String>, (usize, String)> {
    let bytes = line.as_bytes();
    let mut fields = Vec::new();
    let mut at = 0;
    loop {
        let number = fields.len() + 1;
        // Leading spaces and tabs are not part of a field.
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') && bytes[at] != delimiter {
            at += 1;
        }
        if bytes.get(at) == Some(&b'"') {
            let mut text = Vec::new();
            at += 1;
            loop {
                match bytes.get(at) {
                    None => return Err((number, "unterminated quoted field".to_owned())),
                    Some(b'"') if bytes.get(at + 1) == Some(&b'"') => {
                        text.push(b'"');
                        at += 2;
                    }
                    Some(b'"') => {
                        at += 1;
                        break;
                    }
                    Some(&b) => {
                        text.push(b);
                        at += 1;
                    }
                }
            }
            while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') && bytes[at] != delimiter {
                at += 1;
            }
            if at < bytes.len() && bytes[at] != delimiter {
                return Err((number, "text after a closing quote".to_owned()));
            }
            // Quotes were removed at byte boundaries of valid UTF-8, so this cannot fail.
            fields.push(String::from_utf8_lossy(&text).into_owned());
        } else {
            let end = bytes[at..]
                .iter()
                .position(|&b| b == delimiter)
                .map_or(bytes.len(), |p| at + p);
            let field = line[at..end].trim_end_matches([' ', '\t']);
            if field.contains('"') {
                return Err((number, "a quote inside an unquoted field".to_owned()));
            }
            fields.push(field.to_owned());
            at = end;
        }
        if at >= bytes.len() {
            return Ok(fields);
        }
        at += 1; // the delimiter
    }
}

/// Reads CSV content held in memory; `name` identifies it in error messages.
pub fn read_csv_bytes(bytes: &[u8], name: &str, options: &CsvOptions) -> Result<CsvTable, IoError> {
    let unsupported_dtype = |which: &str, dtype: DType| {
        IoError::unsupported(
            name,
            format!("CSV {which} are read as f32, f64 or i64, not {dtype}"),
        )
    };
    if Column::new(options.dtype).is_none() {
        return Err(unsupported_dtype("features", options.dtype));
    }
    if Column::new(options.label_dtype).is_none() {
        return Err(unsupported_dtype("labels", options.label_dtype));
    }
    if options.delimiter == b'"' || !options.delimiter.is_ascii() {
        return Err(IoError::unsupported(
            name,
            "the delimiter must be an ASCII byte other than '\"'",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        IoError::malformed(
            name,
            format!("line {line} (byte {})", e.valid_up_to()),
            "not UTF-8 text",
        )
    })?;
    let mut numbered: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .map(|l| l.strip_suffix('\n').unwrap_or(l))
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| {
            options
                .comment
                .is_none_or(|c| !l.as_bytes().starts_with(&[c]))
        })
        .collect();
    // Blank lines at the end of the file are not rows; blank lines inside the table are errors.
    while numbered
        .last()
        .is_some_and(|(_, l)| l.trim_matches([' ', '\t']).is_empty())
    {
        numbered.pop();
    }
    let mut lines = numbered.into_iter().peekable();
    let place = |line: usize| format!("line {line}");
    let split = |line: usize, text: &str| {
        if text.trim_matches([' ', '\t']).is_empty() {
            return Err(IoError::malformed(
                name,
                place(line),
                "empty line (blank lines are not allowed inside the table)",
            ));
        }
        split_fields(text, options.delimiter).map_err(|(field, problem)| {
            IoError::malformed(name, format!("line {line}, column {field}"), problem)
        })
    };
    let header = match (options.header, lines.peek()) {
        (true, Some(&(line, text))) => {
            lines.next();
            Some(split(line, text)?)
        }
        (true, None) => {
            return Err(IoError::malformed(
                name,
                place(1),
                "the file is empty but a header line was expected",
            ))
        }
        (false, _) => None,
    };
    let width = match (&header, lines.peek()) {
        (Some(h), _) => h.len(),
        (None, Some(&(line, text))) => split(line, text)?.len(),
        (None, None) => {
            return Err(IoError::malformed(
                name,
                place(1),
                "the file has no rows, so the number of columns is unknown",
            ))
        }
    };
    let label = match &options.label {
        None => None,
        Some(LabelColumn::Last) => Some(width - 1),
        Some(LabelColumn::Index(i)) if *i < width => Some(*i),
        Some(LabelColumn::Index(i)) => {
            return Err(IoError::unsupported(
                name,
                format!("label column {i} does not exist (the table has {width} columns)"),
            ))
        }
        Some(LabelColumn::Name(label)) => match &header {
            Some(h) => Some(h.iter().position(|c| c == label).ok_or_else(|| {
                IoError::unsupported(
                    name,
                    format!("no column is named {label:?} (the header names {h:?})"),
                )
            })?),
            None => {
                return Err(IoError::unsupported(
                    name,
                    format!("label column {label:?} is chosen by name, but the file has no header"),
                ))
            }
        },
    };
    let column_name = |i: usize| match &header {
        Some(h) => format!(" ({:?})", h[i]),
        None => String::new(),
    };
    let mut features = Column::new(options.dtype).expect("checked above");
    let mut labels = Column::new(options.label_dtype).expect("checked above");
    let mut rows = 0usize;
    for (line, text) in lines {
        let fields = split(line, text)?;
        if fields.len() != width {
            return Err(IoError::malformed(
                name,
                place(line),
                format!(
                    "{} fields, expected {width} (as on the first line)",
                    fields.len()
                ),
            ));
        }
        for (i, field) in fields.iter().enumerate() {
            let column = if Some(i) == label {
                &mut labels
            } else {
                &mut features
            };
            column.push(field).map_err(|problem| {
                IoError::malformed(
                    name,
                    format!("line {line}, column {}{}", i + 1, column_name(i)),
                    problem,
                )
            })?;
        }
        rows += 1;
    }
    let feature_width = width - usize::from(label.is_some());
    let tensor_error = |e: strata_tensor::TensorError| IoError::unsupported(name, e.to_string());
    Ok(CsvTable {
        columns: header.as_ref().map(|h| {
            h.iter()
                .enumerate()
                .filter(|&(i, _)| Some(i) != label)
                .map(|(_, c)| c.clone())
                .collect()
        }),
        features: features
            .into_tensor(vec![rows, feature_width])
            .map_err(tensor_error)?,
        label_name: header.as_ref().zip(label).map(|(h, i)| h[i].clone()),
        labels: match label {
            Some(_) => Some(labels.into_tensor(vec![rows]).map_err(tensor_error)?),
            None => None,
        },
    })
}

/// Writes the rank-2 tensor `table` (f32, f64 or i64) to `path` as CSV, with `header` as the
/// first line when given (one name per column), atomically.
pub fn write_csv(
    path: impl AsRef<Path>,
    table: &Tensor,
    header: Option<&[&str]>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let name = display_name(path);
    let &[rows, cols] = table.dims() else {
        return Err(IoError::unsupported(
            &name,
            format!("CSV holds a rank-2 table, not shape {:?}", table.dims()),
        ));
    };
    let cells: Vec<String> = match table.dtype() {
        // Debug prints the shortest text that parses back to the same value.
        DType::F32 => table
            .to_vec::<f32>()
            .map(|v| v.iter().map(|x| format!("{x:?}")).collect()),
        DType::F64 => table
            .to_vec::<f64>()
            .map(|v| v.iter().map(|x| format!("{x:?}")).collect()),
        DType::I64 => table
            .to_vec::<i64>()
            .map(|v| v.iter().map(i64::to_string).collect()),
        other => {
            return Err(IoError::unsupported(
                &name,
                format!("CSV is written from f32, f64 or i64, not {other}"),
            ))
        }
    }
    .map_err(|e| IoError::unsupported(&name, e.to_string()))?;
    let mut out = String::new();
    if let Some(header) = header {
        if header.len() != cols {
            return Err(IoError::unsupported(
                &name,
                format!("{} header names for {cols} columns", header.len()),
            ));
        }
        let quoted: Vec<String> = header
            .iter()
            .map(|h| {
                if h.contains([',', '"', '\n', '\r']) || h.trim() != *h {
                    format!("\"{}\"", h.replace('"', "\"\""))
                } else {
                    (*h).to_owned()
                }
            })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    for r in 0..rows {
        out.push_str(&cells[r * cols..(r + 1) * cols].join(","));
        out.push('\n');
    }
    write_atomically(path, out.as_bytes())
}
