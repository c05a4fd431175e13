//! Generic, atomic Parquet and JSONL IO for any serde record type.
//!
//! The Arrow schema is traced from the Rust type with `serde_arrow`, so the
//! record structs in [`crate::schema`] are the single source of truth for the
//! on-disk layout: adding a field adds a column.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow::datatypes::{DataType, Field, FieldRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_arrow::schema::{SchemaLike, TracingOptions};

/// On-disk format of a dataset, chosen from the flag or the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Parquet,
    Jsonl,
}

impl OutputFormat {
    /// `.jsonl`/`.json` → JSONL, anything else → Parquet.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") | Some("json") => OutputFormat::Jsonl,
            _ => OutputFormat::Parquet,
        }
    }
}

/// Rows per Parquet row group: small enough to stream, large enough to compress well.
const ROW_GROUP_ROWS: usize = 4096;

fn fields_for<T: Serialize + DeserializeOwned>() -> Result<Vec<FieldRef>> {
    let options = TracingOptions::default()
        .allow_null_fields(true)
        .enums_without_data_as_strings(true);
    let fields = Vec::<FieldRef>::from_type::<T>(options)
        .context("deriving the Arrow schema from the record type")?;
    Ok(fields.iter().map(|f| Arc::new(plain_strings(f))).collect())
}

/// Field-less enums trace as dictionary-encoded strings; store them as plain
/// strings so every reader (pandas, HF `datasets`, DuckDB) sees ordinary text.
fn plain_strings(field: &Field) -> Field {
    let data_type = match field.data_type() {
        DataType::Dictionary(_, value)
            if matches!(value.as_ref(), DataType::Utf8 | DataType::LargeUtf8) =>
        {
            value.as_ref().clone()
        }
        DataType::List(item) => DataType::List(Arc::new(plain_strings(item))),
        DataType::LargeList(item) => DataType::LargeList(Arc::new(plain_strings(item))),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| Arc::new(plain_strings(f))).collect())
        }
        other => other.clone(),
    };
    field.clone().with_data_type(data_type)
}

/// zstd level 3: compact files, fast enough to write at every checkpoint.
fn writer_properties() -> Result<WriterProperties> {
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build())
}

/// Writes `rows` to `path` as zstd-compressed Parquet, atomically.
pub fn write_parquet<T: Serialize + DeserializeOwned>(path: &Path, rows: &[T]) -> Result<()> {
    let fields = fields_for::<T>()?;
    atomic_write(path, |file| {
        let schema = Arc::new(arrow::datatypes::Schema::new(fields.clone()));
        let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties()?))?;
        for chunk in rows.chunks(ROW_GROUP_ROWS) {
            let batch = serde_arrow::to_record_batch(&fields, &chunk)?;
            writer.write(&batch)?;
        }
        if rows.is_empty() {
            // Still write a valid file with the schema and zero rows.
            let batch = serde_arrow::to_record_batch(&fields, &Vec::<T>::new())?;
            writer.write(&batch)?;
        }
        writer.close()?;
        Ok(())
    })
}

/// Reads every row of a Parquet file written by [`write_parquet`] (or by any tool
/// that produced the same columns).
pub fn read_parquet<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .build()?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch?;
        let mut part: Vec<T> = serde_arrow::from_record_batch(&batch).with_context(|| {
            format!(
                "{}: columns do not match the expected schema",
                path.display()
            )
        })?;
        rows.append(&mut part);
    }
    Ok(rows)
}

/// Calls `each` on every row of a Parquet file, one row group at a time, so a
/// large file (traces with value logs) is never held in memory at once.
pub fn for_each_parquet_row<T: DeserializeOwned>(
    path: &Path,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    for batch in parquet_batches(path)? {
        for row in rows_of::<T>(&batch?, path)? {
            each(row)?;
        }
    }
    Ok(())
}

/// The Arrow batches of a Parquet file, 64 rows at a time.
fn parquet_batches(path: &Path) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .with_batch_size(64)
        .build()?)
}

/// The records of one batch of `path`.
fn rows_of<T: DeserializeOwned>(batch: &arrow::array::RecordBatch, path: &Path) -> Result<Vec<T>> {
    serde_arrow::from_record_batch(batch).with_context(|| {
        format!(
            "{}: columns do not match the expected schema",
            path.display()
        )
    })
}

/// Like [`for_each_parquet_row`], for the rows whose string column `key`
/// (e.g. `id`) `keep` accepts: the others are filtered out of each Arrow
/// batch and never deserialized, so picking a few rows out of a large file
/// (a training window's programs) costs a scan of one column, not of every
/// record.
pub fn for_each_parquet_row_keyed<T: DeserializeOwned>(
    path: &Path,
    key: &str,
    mut keep: impl FnMut(&str) -> bool,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    use arrow::array::{AsArray, BooleanArray};
    for batch in parquet_batches(path)? {
        let batch = batch?;
        let column = batch
            .column_by_name(key)
            .with_context(|| format!("{}: no column {key:?}", path.display()))?;
        let mask: BooleanArray = if let Some(keys) = column.as_string_opt::<i64>() {
            keys.iter()
                .map(|k| Some(k.is_some_and(&mut keep)))
                .collect()
        } else if let Some(keys) = column.as_string_opt::<i32>() {
            keys.iter()
                .map(|k| Some(k.is_some_and(&mut keep)))
                .collect()
        } else {
            bail!("{}: column {key:?} is not a string column", path.display());
        };
        if mask.true_count() == 0 {
            continue;
        }
        let kept = arrow::compute::filter_record_batch(&batch, &mask)?;
        for row in rows_of::<T>(&kept, path)? {
            each(row)?;
        }
    }
    Ok(())
}

/// Writes one JSON object per line, atomically.
pub fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    atomic_write(path, |file| {
        let mut out = BufWriter::new(file);
        for row in rows {
            serde_json::to_writer(&mut out, row)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    })
}

/// Reads a JSONL file of records; blank lines are ignored.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push(
            serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), i + 1))?,
        );
    }
    Ok(rows)
}

/// Writes in the format implied by the extension (see [`OutputFormat::from_path`]).
pub fn write_rows<T: Serialize + DeserializeOwned>(path: &Path, rows: &[T]) -> Result<()> {
    match OutputFormat::from_path(path) {
        OutputFormat::Parquet => write_parquet(path, rows),
        OutputFormat::Jsonl => write_jsonl(path, rows),
    }
}

/// Reads in the format implied by the extension.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    match OutputFormat::from_path(path) {
        OutputFormat::Parquet => read_parquet(path),
        OutputFormat::Jsonl => read_jsonl(path),
    }
}

/// Calls `each` on every row of a file in the format implied by its
/// extension, streaming (one row group or line at a time).
pub fn for_each_row<T: DeserializeOwned>(
    path: &Path,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    match OutputFormat::from_path(path) {
        OutputFormat::Parquet => for_each_parquet_row(path, each),
        OutputFormat::Jsonl => {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            for (i, line) in BufReader::new(file).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                each(
                    serde_json::from_str(&line)
                        .with_context(|| format!("{}:{}", path.display(), i + 1))?,
                )?;
            }
            Ok(())
        }
    }
}

/// The rows of a file that `keep` accepts, in file order, read on a
/// background thread at most `ahead` rows ahead of the consumer, so a stage
/// can walk an input larger than memory. A read error arrives as the last
/// item; dropping the iterator stops the reader.
pub fn stream_rows<T, F>(path: &Path, ahead: usize, mut keep: F) -> impl Iterator<Item = Result<T>>
where
    T: DeserializeOwned + Send + 'static,
    F: FnMut(&T) -> bool + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T>>(ahead.max(1));
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let read = for_each_row(&path, |row: T| {
            if keep(&row) {
                tx.send(Ok(row))
                    .map_err(|_| anyhow::anyhow!("the consumer stopped"))?;
            }
            Ok(())
        });
        if let Err(e) = read {
            // Nobody to tell when the consumer itself hung up.
            let _ = tx.send(Err(e));
        }
    });
    rx.into_iter()
}

/// The rows of a file whose id (`id_of`) is in `ids`, streamed as
/// [`stream_rows`] does: the second pass of a stage whose first pass chose
/// them, holding the ids rather than the rows.
pub fn stream_listed<T>(
    path: &Path,
    ahead: usize,
    ids: Vec<String>,
    id_of: fn(&T) -> &str,
) -> impl Iterator<Item = Result<T>>
where
    T: DeserializeOwned + Send + 'static,
{
    let ids: std::collections::HashSet<String> = ids.into_iter().collect();
    stream_rows(path, ahead, move |row: &T| ids.contains(id_of(row)))
}

/// Rows per row group when writing from a stream: bounds the rows held at once.
const STREAM_ROW_GROUP_ROWS: usize = 512;

/// Writes the rows `fill` hands to its sink, in the format implied by the
/// extension, atomically, holding at most one row group in memory.
pub fn write_rows_from<T: Serialize + DeserializeOwned>(
    path: &Path,
    fill: impl FnOnce(&mut dyn FnMut(T) -> Result<()>) -> Result<()>,
) -> Result<()> {
    match OutputFormat::from_path(path) {
        OutputFormat::Jsonl => atomic_write(path, |file| {
            let mut out = BufWriter::new(file);
            fill(&mut |row: T| {
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
                Ok(())
            })?;
            out.flush()?;
            Ok(())
        }),
        OutputFormat::Parquet => {
            let fields = fields_for::<T>()?;
            atomic_write(path, |file| {
                let schema = Arc::new(arrow::datatypes::Schema::new(fields.clone()));
                let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties()?))?;
                let mut buffer: Vec<T> = Vec::new();
                let mut written = 0usize;
                fill(&mut |row: T| {
                    buffer.push(row);
                    if buffer.len() >= STREAM_ROW_GROUP_ROWS {
                        writer.write(&serde_arrow::to_record_batch(&fields, &buffer)?)?;
                        writer.flush()?;
                        written += buffer.len();
                        buffer.clear();
                    }
                    Ok(())
                })?;
                if !buffer.is_empty() || written == 0 {
                    // A zero-row batch still gives a valid file with the schema.
                    writer.write(&serde_arrow::to_record_batch(&fields, &buffer)?)?;
                }
                writer.close()?;
                Ok(())
            })
        }
    }
}

/// An output written in parts as a long stage goes: every checkpoint's rows
/// become a part file in `OUTPUT.parts/` (each written atomically), so the
/// stage holds one checkpoint's rows in memory and an interrupted run keeps
/// all it finished. [`PartedOutput::merge`] streams the output's earlier rows
/// and the parts into the output (atomically) and removes the parts.
pub struct PartedOutput {
    path: PathBuf,
    parts: PathBuf,
}

impl PartedOutput {
    pub fn new(path: &Path) -> Self {
        let mut parts = path.as_os_str().to_owned();
        parts.push(".parts");
        PartedOutput {
            path: path.to_path_buf(),
            parts: PathBuf::from(parts),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Part files in write order.
    fn part_files(&self) -> Result<Vec<PathBuf>> {
        if !self.parts.is_dir() {
            return Ok(Vec::new());
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.parts)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-"))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Calls `each` on every finished row: the output's, then the parts' (an
    /// interrupted run's), streaming.
    pub fn for_each_done<T: DeserializeOwned>(
        &self,
        mut each: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        if self.path.exists() {
            for_each_row(&self.path, &mut each)
                .with_context(|| format!("resuming from {}", self.path.display()))?;
        }
        for part in self.part_files()? {
            for_each_row(&part, &mut each)
                .with_context(|| format!("resuming from {}", part.display()))?;
        }
        Ok(())
    }

    /// The key (e.g. the function id) of every finished row: what a resumed
    /// run skips.
    pub fn done_keys<T: DeserializeOwned>(
        &self,
        key: impl Fn(T) -> String,
    ) -> Result<std::collections::HashSet<String>> {
        let mut keys = std::collections::HashSet::new();
        self.for_each_done(|row: T| {
            keys.insert(key(row));
            Ok(())
        })?;
        Ok(keys)
    }

    /// Writes `rows` as the next part.
    pub fn write_part<T: Serialize + DeserializeOwned>(&self, rows: &[T]) -> Result<()> {
        std::fs::create_dir_all(&self.parts)
            .with_context(|| format!("creating {}", self.parts.display()))?;
        let next = self.part_files()?.len();
        let ext = self
            .path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("parquet");
        write_rows(&self.parts.join(format!("part-{next:06}.{ext}")), rows)
    }

    /// Streams the output's rows and then every part's into the output
    /// (written even when there are none) and removes the parts.
    pub fn merge<T: Serialize + DeserializeOwned>(&self) -> Result<()> {
        let parts = self.part_files()?;
        if parts.is_empty() && self.path.exists() {
            return Ok(());
        }
        write_rows_from(&self.path, |sink| {
            if self.path.exists() {
                for_each_row::<T>(&self.path, &mut *sink)?;
            }
            for part in &parts {
                for_each_row::<T>(part, &mut *sink)?;
            }
            Ok(())
        })?;
        if self.parts.exists() {
            std::fs::remove_dir_all(&self.parts)
                .with_context(|| format!("removing {}", self.parts.display()))?;
        }
        Ok(())
    }
}

/// Runs `write` against a temporary file beside `path`, then renames it over
/// `path`. On error the temporary file is removed and `path` is untouched.
pub fn atomic_write(path: &Path, write: impl FnOnce(File) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let Some(name) = path.file_name() else {
        bail!("output path {} has no file name", path.display());
    };
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let file = tmp.reopen()?;
    write(file).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ExampleCall, FunctionRecord, Param, ParamKind};

    fn sample() -> FunctionRecord {
        let mut r = FunctionRecord::error("files", "demo", "a.py", "binary", "x");
        r.status = crate::RecordStatus::Ok;
        r.error = None;
        r.params = vec![Param {
            name: "x".into(),
            kind: ParamKind::PositionalOrKeyword,
            annotation: Some("int".into()),
            default: None,
        }];
        r.examples = vec![ExampleCall {
            call: "f(1)".into(),
            expected: Some("2".into()),
            origin: "doctest".into(),
        }];
        r.uses_builtins = vec!["len".into()];
        r
    }

    #[test]
    fn parquet_round_trip_preserves_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let rows = vec![
            sample(),
            FunctionRecord::error("files", "demo", "b.py", "syntax_error", "bad"),
        ];
        write_parquet(&path, &rows).unwrap();
        let back: Vec<FunctionRecord> = read_parquet(&path).unwrap();
        assert_eq!(back, rows);
        let file = File::open(&path).unwrap();
        let schema = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .schema()
            .clone();
        assert_eq!(
            schema.field_with_name("status").unwrap().data_type(),
            &DataType::LargeUtf8,
            "enums are plain strings"
        );
    }

    /// 150 distinct rows (more than one 64-row batch) written to DIR/many.parquet.
    fn many_rows(dir: &Path) -> (PathBuf, Vec<FunctionRecord>) {
        let path = dir.join("many.parquet");
        let rows: Vec<FunctionRecord> = (0..150)
            .map(|i| {
                FunctionRecord::error("files", &format!("f{i}"), "b.py", "syntax_error", "bad")
            })
            .collect();
        write_parquet(&path, &rows).unwrap();
        (path, rows)
    }

    #[test]
    fn streaming_reader_sees_every_row_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (path, rows) = many_rows(dir.path());
        let mut seen = Vec::new();
        for_each_parquet_row(&path, |r: FunctionRecord| {
            seen.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, rows);
    }

    #[test]
    fn keyed_reader_deserializes_only_the_rows_it_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let (path, rows) = many_rows(dir.path());
        let wanted: Vec<&str> = [3, 64, 65, 149]
            .iter()
            .map(|&i| rows[i].id.as_str())
            .collect();
        let mut asked = 0;
        let mut seen = Vec::new();
        for_each_parquet_row_keyed(
            &path,
            "id",
            |id| {
                asked += 1;
                wanted.contains(&id)
            },
            |r: FunctionRecord| {
                seen.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(asked, 150);
        let expected: Vec<FunctionRecord> =
            [3, 64, 65, 149].iter().map(|&i| rows[i].clone()).collect();
        assert_eq!(seen, expected);
        let missing =
            for_each_parquet_row_keyed(&path, "no_such", |_| true, |_: FunctionRecord| Ok(()));
        assert!(missing.unwrap_err().to_string().contains("no column"));
    }

    #[test]
    fn stream_rows_keeps_order_filters_and_reports_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.parquet");
        let rows: Vec<FunctionRecord> = (0..300)
            .map(|i| FunctionRecord::error("files", &format!("f{i}"), "b.py", "x", "y"))
            .collect();
        write_parquet(&path, &rows).unwrap();
        let odd: Vec<FunctionRecord> = stream_rows(&path, 2, |r: &FunctionRecord| {
            r.source_name[1..].parse::<u32>().unwrap() % 2 == 1
        })
        .collect::<Result<_>>()
        .unwrap();
        let expected: Vec<FunctionRecord> = rows.iter().skip(1).step_by(2).cloned().collect();
        assert_eq!(odd, expected);
        // Stopping early leaves the reader blocked on a closed channel: it ends.
        let first = stream_rows(&path, 1, |_: &FunctionRecord| true).next();
        assert_eq!(first.unwrap().unwrap(), rows[0]);
        // An unreadable file is an error item, not a silently short stream.
        let bad = dir.path().join("bad.parquet");
        std::fs::write(&bad, b"not parquet").unwrap();
        let items: Vec<Result<FunctionRecord>> =
            stream_rows(&bad, 4, |_: &FunctionRecord| true).collect();
        assert_eq!(items.len(), 1);
        assert!(format!("{:#}", items[0].as_ref().unwrap_err()).contains("not a Parquet file"));
    }

    #[test]
    fn empty_dataset_is_a_valid_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        write_parquet::<FunctionRecord>(&path, &[]).unwrap();
        let back: Vec<FunctionRecord> = read_parquet(&path).unwrap();
        assert!(back.is_empty());
    }

    #[test]
    fn jsonl_round_trip_and_format_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        write_rows(&path, &[sample()]).unwrap();
        let back: Vec<FunctionRecord> = read_rows(&path).unwrap();
        assert_eq!(back, vec![sample()]);
        assert_eq!(
            OutputFormat::from_path(Path::new("a.parquet")),
            OutputFormat::Parquet
        );
    }

    #[test]
    fn parted_output_resumes_and_merges_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let rows = |from: usize, to: usize| -> Vec<FunctionRecord> {
            (from..to)
                .map(|i| FunctionRecord::error("files", &format!("f{i}"), "b.py", "x", "y"))
                .collect()
        };
        for name in ["out.parquet", "out.jsonl"] {
            let path = dir.path().join(name);
            // A finished earlier run, then an interrupted one that left two parts.
            write_rows(&path, &rows(0, 3)).unwrap();
            let out = PartedOutput::new(&path);
            out.write_part(&rows(3, 600)).unwrap();
            out.write_part(&rows(600, 601)).unwrap();
            let mut done = Vec::new();
            out.for_each_done(|r: FunctionRecord| {
                done.push(r);
                Ok(())
            })
            .unwrap();
            assert_eq!(done, rows(0, 601), "{name}: resume sees output then parts");
            out.merge::<FunctionRecord>().unwrap();
            let back: Vec<FunctionRecord> = read_rows(&path).unwrap();
            assert_eq!(back, rows(0, 601), "{name}");
            assert!(!dir.path().join(format!("{name}.parts")).exists());
            // Nothing new: the output stays as it is.
            out.merge::<FunctionRecord>().unwrap();
            assert_eq!(read_rows::<FunctionRecord>(&path).unwrap().len(), 601);
        }
        // No rows at all still gives a valid, empty output.
        let empty = PartedOutput::new(&dir.path().join("none.parquet"));
        empty.merge::<FunctionRecord>().unwrap();
        assert!(read_rows::<FunctionRecord>(empty.path())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn failed_write_leaves_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let err = atomic_write(&path, |_f| bail!("boom"));
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
    }
}
