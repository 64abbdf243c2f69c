//! A minimal PNG codec for what training needs: writing RGB plots and reading 8-bit images
//! for `strata predict`. It is built on `flate2` (already a dependency, for gzip datasets), so
//! no image crate is compiled.

use crate::{NnError, Result};
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use std::io::{Read, Write};
use std::path::Path;

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// Encodes an 8-bit RGB image (`rgb.len() == 3·width·height`, rows top to bottom).
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let row = 3 * width as usize;
    if rgb.len() != row * height as usize || width == 0 || height == 0 {
        return Err(NnError::invalid(
            "PNG",
            format!("{} bytes are not a {width}×{height} RGB image", rgb.len()),
        ));
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    let write_err = |e: std::io::Error| NnError::invalid("PNG", format!("compression failed: {e}"));
    for line in rgb.chunks(row) {
        z.write_all(&[0]).map_err(write_err)?;
        z.write_all(line).map_err(write_err)?;
    }
    let idat = z.finish().map_err(write_err)?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// A grayscale image, 8 bits per pixel, rows top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Decodes a non-interlaced 8-bit PNG (grayscale, gray + alpha, RGB or RGBA) to grayscale
/// (RGB by the ITU-R 601 luma weights; alpha is ignored). `path` names the file in errors.
pub fn decode_gray(bytes: &[u8], path: &Path) -> Result<GrayImage> {
    let bad = |place: String, msg: &str| NnError::file(path, place, msg.to_string());
    if !bytes.starts_with(&SIGNATURE) {
        return Err(bad(String::new(), "not a PNG file (bad signature)"));
    }
    let mut pos = SIGNATURE.len();
    let mut header: Option<(usize, usize, usize)> = None;
    let mut idat = Vec::new();
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(bad(
                format!("byte {pos}"),
                "truncated before the IEND chunk",
            ));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        let Some(data) = bytes.get(pos + 8..pos + 8 + len) else {
            return Err(bad(format!("byte {pos}"), "truncated chunk"));
        };
        let Some(crc_bytes) = bytes.get(pos + 8 + len..pos + 12 + len) else {
            return Err(bad(format!("byte {pos}"), "truncated chunk checksum"));
        };
        let mut crc = Crc::new();
        crc.update(&kind);
        crc.update(data);
        if crc.sum().to_be_bytes() != crc_bytes {
            return Err(bad(
                format!("byte {pos}"),
                "chunk checksum mismatch (corrupt file)",
            ));
        }
        match &kind {
            b"IHDR" if data.len() == 13 => {
                let w = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
                let h = u32::from_be_bytes([data[4], data[5], data[6], data[7]]) as usize;
                let channels = match (data[8], data[9]) {
                    (8, 0) => 1,
                    (8, 4) => 2,
                    (8, 2) => 3,
                    (8, 6) => 4,
                    (depth, color) => {
                        return Err(bad(
                            "IHDR".into(),
                            &format!(
                                "bit depth {depth} with color type {color} is not supported \
                                 (8-bit gray, gray+alpha, RGB or RGBA only)"
                            ),
                        ))
                    }
                };
                if data[12] != 0 {
                    return Err(bad("IHDR".into(), "interlaced PNGs are not supported"));
                }
                header = Some((w, h, channels));
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let Some((w, h, channels)) = header else {
        return Err(bad(String::new(), "no IHDR chunk"));
    };
    let stride = w * channels;
    let mut raw = Vec::new();
    ZlibDecoder::new(idat.as_slice())
        .read_to_end(&mut raw)
        .map_err(|e| {
            bad(
                "IDAT".into(),
                &format!("cannot inflate the image data: {e}"),
            )
        })?;
    if raw.len() != h * (stride + 1) {
        return Err(bad(
            "IDAT".into(),
            &format!(
                "{} bytes of image data, a {w}×{h} image with {channels} channels needs {}",
                raw.len(),
                h * (stride + 1)
            ),
        ));
    }
    let mut img = vec![0u8; h * stride];
    for y in 0..h {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                img[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 { img[(y - 1) * stride + x] } else { 0 };
            let c = if x >= channels && y > 0 {
                img[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                f => return Err(bad(format!("row {y}"), &format!("unknown filter type {f}"))),
            };
            img[y * stride + x] = line[x].wrapping_add(predictor);
        }
    }
    let pixels = img
        .chunks(channels)
        .map(|p| match channels {
            1 | 2 => p[0],
            _ => {
                let luma =
                    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
                luma.round().clamp(0.0, 255.0) as u8
            }
        })
        .collect();
    Ok(GrayImage {
        width: w,
        height: h,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_round_trips_through_the_gray_decoder() {
        // Gray pixels (r = g = b) decode to themselves.
        let (w, h) = (5u32, 3u32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| [(i * 17) as u8; 3]).collect();
        let png = encode_rgb(w, h, &rgb).unwrap();
        let img = decode_gray(&png, Path::new("x.png")).unwrap();
        assert_eq!((img.width, img.height), (5, 3));
        assert_eq!(
            img.pixels,
            (0..w * h).map(|i| (i * 17) as u8).collect::<Vec<_>>()
        );
        let e = decode_gray(&png[..png.len() - 20], Path::new("cut.png"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cut.png") && e.contains("truncated"), "{e}");
        let mut corrupt = png.clone();
        corrupt[40] ^= 1;
        let e = decode_gray(&corrupt, Path::new("c.png"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("checksum") || e.contains("inflate"), "{e}");
        assert!(encode_rgb(2, 2, &[0; 5]).is_err());
    }

    #[test]
    fn decodes_every_filter_type() {
        // A 3×2 gray image with one row per filter, built by hand: the encoded bytes are the
        // pixel minus the filter's predictor.
        let pixels = [[10u8, 20, 30], [15, 25, 40]];
        for filter in 0u8..5 {
            let mut raw = Vec::new();
            for (y, row) in pixels.iter().enumerate() {
                raw.push(filter);
                for x in 0..3 {
                    let a = if x > 0 { row[x - 1] } else { 0 };
                    let b = if y > 0 { pixels[y - 1][x] } else { 0 };
                    let c = if x > 0 && y > 0 {
                        pixels[y - 1][x - 1]
                    } else {
                        0
                    };
                    let p = match filter {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                        _ => paeth(a, b, c),
                    };
                    raw.push(row[x].wrapping_sub(p));
                }
            }
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(&raw).unwrap();
            let mut png = SIGNATURE.to_vec();
            chunk(&mut png, b"IHDR", &[0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0]);
            chunk(&mut png, b"IDAT", &z.finish().unwrap());
            chunk(&mut png, b"IEND", &[]);
            let img = decode_gray(&png, Path::new("f.png")).unwrap();
            assert_eq!(img.pixels, [10, 20, 30, 15, 25, 40], "filter {filter}");
        }
    }
}
