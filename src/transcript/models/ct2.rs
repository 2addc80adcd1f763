//! Reading a CTranslate2 (CT2) model: faster-whisper's format. `model.bin` is a list of named
//! tensors (little endian): u32 binary version; from version 2 a spec name and revision; u32
//! variable count; per variable a name, rank, shape, (from version 4) dtype and byte count, then
//! the bytes; (from version 3) aliases. Only the index is read up front: tensors are read one at a
//! time when they are converted, so a large model is never held whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// What is wrong with a CT2 model, said of its file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Ct2Error {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::Bf16,
            _ => return None,
        })
    }

    pub fn size(self) -> u64 {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::Bf16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// A tensor in model.bin: where its bytes are, and what they are.
#[derive(Debug, Clone)]
pub struct Variable {
    pub shape: Vec<u64>,
    pub dtype: DType,
    offset: u64,
    bytes: u64,
}

impl Variable {
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// A CT2 model's index, and the file to read tensors from.
pub struct Ct2Model {
    path: PathBuf,
    file: BufReader<File>,
    pub spec: String,
    variables: BTreeMap<String, Variable>,
}

/// Caps that keep a damaged index from asking for absurd allocations.
const MAX_VARIABLES: u32 = 100_000;
const MAX_RANK: u8 = 8;

impl Ct2Model {
    pub fn open(path: &Path) -> Result<Self, Ct2Error> {
        let err = |reason: String| Ct2Error { path: path.to_path_buf(), reason };
        let file = File::open(path).map_err(|e| err(e.to_string()))?;
        let len = file.metadata().map_err(|e| err(e.to_string()))?.len();
        let mut r = BufReader::new(file);
        let truncated = |e: io::Error| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                err("the file ends inside its index: truncated, or not a CTranslate2 model.bin".into())
            } else {
                err(e.to_string())
            }
        };
        let version = read_u32(&mut r).map_err(truncated)?;
        if !(1..=6).contains(&version) {
            return Err(err(format!("binary version {version}: not a CTranslate2 model.bin (versions 1-6 are known)")));
        }
        let spec = if version >= 2 {
            let spec = read_string(&mut r).map_err(truncated)?;
            let _revision = read_u32(&mut r).map_err(truncated)?;
            spec
        } else {
            String::new()
        };
        let count = read_u32(&mut r).map_err(truncated)?;
        if count > MAX_VARIABLES {
            return Err(err(format!("{count} variables: the index is damaged")));
        }
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let name = read_string(&mut r).map_err(truncated)?;
            let rank = read_u8(&mut r).map_err(truncated)?;
            if rank > MAX_RANK {
                return Err(err(format!("variable {name}: rank {rank}: the index is damaged")));
            }
            let mut shape = Vec::with_capacity(rank as usize);
            for _ in 0..rank {
                shape.push(read_u32(&mut r).map_err(truncated)? as u64);
            }
            let (dtype, bytes) = if version >= 4 {
                let code = read_u8(&mut r).map_err(truncated)?;
                let dtype =
                    DType::from_code(code).ok_or_else(|| err(format!("variable {name}: unknown data type {code}")))?;
                (dtype, read_u32(&mut r).map_err(truncated)? as u64)
            } else {
                // Versions before 4 stored the element size and then the count.
                let size = read_u8(&mut r).map_err(truncated)?;
                let dtype = match size {
                    4 => DType::F32,
                    2 => DType::I16,
                    1 => DType::I8,
                    _ => return Err(err(format!("variable {name}: element size {size}"))),
                };
                (dtype, read_u32(&mut r).map_err(truncated)? as u64 * size as u64)
            };
            let elements: u64 = shape.iter().product();
            if elements.checked_mul(dtype.size()) != Some(bytes) {
                return Err(err(format!("variable {name}: shape {shape:?} does not match its {bytes} bytes")));
            }
            let offset = r.stream_position().map_err(|e| err(e.to_string()))?;
            if offset + bytes > len {
                return Err(err(format!(
                    "variable {name} runs past the end of the file ({} bytes): the file is truncated",
                    len
                )));
            }
            r.seek_relative(bytes as i64).map_err(|e| err(e.to_string()))?;
            variables.insert(name, Variable { shape, dtype, offset, bytes });
        }
        if version >= 3 {
            let aliases = read_u32(&mut r).map_err(truncated)?;
            for _ in 0..aliases.min(MAX_VARIABLES) {
                let alias = read_string(&mut r).map_err(truncated)?;
                let target = read_string(&mut r).map_err(truncated)?;
                if let Some(v) = variables.get(&target).cloned() {
                    variables.insert(alias, v);
                }
            }
        }
        Ok(Ct2Model { path: path.to_path_buf(), file: r, spec, variables })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }

    /// The variable, or an error naming it as missing.
    pub fn require(&self, name: &str) -> Result<&Variable, Ct2Error> {
        self.get(name).ok_or_else(|| self.error(format!("variable {name} is missing: not a Whisper model")))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    pub fn error(&self, reason: String) -> Ct2Error {
        Ct2Error { path: self.path.clone(), reason }
    }

    /// A variable's raw bytes.
    pub fn bytes(&mut self, name: &str) -> Result<Vec<u8>, Ct2Error> {
        let v = self.require(name)?.clone();
        let mut out = vec![0u8; v.bytes as usize];
        self.file.seek(SeekFrom::Start(v.offset)).map_err(|e| self.error(e.to_string()))?;
        self.file.read_exact(&mut out).map_err(|e| self.error(format!("reading {name}: {e}")))?;
        Ok(out)
    }

    /// A scalar integer setting (num_heads and the like).
    pub fn integer(&mut self, name: &str) -> Result<i64, Ct2Error> {
        let v = self.require(name)?.clone();
        if v.elements() != 1 {
            return Err(self.error(format!("{name} should be a single number, has shape {:?}", v.shape)));
        }
        let b = self.bytes(name)?;
        Ok(match v.dtype {
            DType::I8 => b[0] as i8 as i64,
            DType::I16 => i16::from_le_bytes([b[0], b[1]]) as i64,
            DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            DType::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32() as i64,
            DType::Bf16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f32() as i64,
        })
    }

    /// A float tensor as f16 bytes (little endian). f16 is copied as is, so a conversion of the
    /// published weights is bit-exact; f32 and bf16 are rounded to f16; int8/int16 weights are
    /// dequantized with their per-row `weight_scale`.
    pub fn f16_bytes(&mut self, name: &str) -> Result<Vec<u8>, Ct2Error> {
        let dtype = self.require(name)?.dtype;
        if dtype == DType::F16 {
            return self.bytes(name);
        }
        Ok(self.f32(name)?.into_iter().flat_map(|x| half::f16::from_f32(x).to_le_bytes()).collect())
    }

    /// A float tensor as f32 values (exact for f16, bf16 and f32).
    pub fn f32(&mut self, name: &str) -> Result<Vec<f32>, Ct2Error> {
        let v = self.require(name)?.clone();
        let b = self.bytes(name)?;
        let values: Vec<f32> = match v.dtype {
            DType::F32 => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            DType::F16 => b.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::Bf16 => b.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            DType::I8 | DType::I16 => {
                let q: Vec<f32> = if v.dtype == DType::I8 {
                    b.iter().map(|&x| x as i8 as f32).collect()
                } else {
                    b.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32).collect()
                };
                // CT2 quantizes per output row: q = round(w * scale).
                let scale_name = format!("{name}_scale");
                let scales = self.f32(&scale_name)?;
                let rows = v.shape.first().copied().unwrap_or(1).max(1) as usize;
                if scales.len() != rows && scales.len() != 1 {
                    return Err(self.error(format!("{scale_name}: {} scales for {rows} rows", scales.len())));
                }
                let per_row = q.len() / rows;
                q.iter()
                    .enumerate()
                    .map(|(i, x)| x / scales[if scales.len() == 1 { 0 } else { i / per_row.max(1) }])
                    .collect()
            }
            DType::I32 => return Err(self.error(format!("{name} holds integers, not weights"))),
        };
        Ok(values)
    }
}

fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// u16 length, then the bytes with a trailing NUL.
fn read_string(r: &mut impl Read) -> io::Result<String> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    let mut s = vec![0u8; u16::from_le_bytes(b) as usize];
    r.read_exact(&mut s)?;
    if s.last() == Some(&0) {
        s.pop();
    }
    String::from_utf8(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a name is not UTF-8"))
}
