//! Content codings of a response body (RFC 9110 §8.4.1): `gzip` (RFC 1952), `deflate` (the zlib
//! format of RFC 1950, or raw RFC 1951 data as some servers send it) and `identity`.

use std::io::Read as _;

use bytes::Bytes;

/// Why a body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The coding is not one we know.
    Unknown(String),
    /// The data is not valid in that coding.
    Corrupt(String, String),
    /// The decoded body would be larger than the limit.
    TooLarge,
}

/// Decodes `body` as labelled by the `Content-Encoding` values, last coding first, into at
/// most `limit` bytes.
pub(crate) fn decode(codings: &[String], body: Bytes, limit: usize) -> Result<Bytes, DecodeError> {
    let mut body = body;
    for coding in codings.iter().rev() {
        let name = coding.trim().to_ascii_lowercase();
        body = match name.as_str() {
            "" | "identity" => body,
            "gzip" | "x-gzip" => inflate(
                flate2::read::MultiGzDecoder::new(body.as_ref()),
                limit,
                &name,
            )?,
            "deflate" => match inflate(flate2::read::ZlibDecoder::new(body.as_ref()), limit, &name)
            {
                Err(DecodeError::Corrupt(..)) => inflate(
                    flate2::read::DeflateDecoder::new(body.as_ref()),
                    limit,
                    &name,
                )?,
                other => other?,
            },
            _ => return Err(DecodeError::Unknown(coding.clone())),
        };
    }
    Ok(body)
}

fn inflate(reader: impl std::io::Read, limit: usize, name: &str) -> Result<Bytes, DecodeError> {
    let mut out = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it" without reading more.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt(name.to_owned(), e.to_string()))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// The codings named by a response's `Content-Encoding` fields, in order.
pub(crate) fn codings(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip() {
        let out = decode(&["gzip".into()], Bytes::from(gzip(b"hello")), 100).unwrap();
        assert_eq!(&out[..], b"hello");
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib body").unwrap();
        let out = decode(&["deflate".into()], Bytes::from(z.finish().unwrap()), 100).unwrap();
        assert_eq!(&out[..], b"zlib body");
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(b"raw body").unwrap();
        let out = decode(&["deflate".into()], Bytes::from(r.finish().unwrap()), 100).unwrap();
        assert_eq!(&out[..], b"raw body");
    }

    #[test]
    fn decoded_size_is_bounded() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert_eq!(
            decode(&["gzip".into()], Bytes::from(bomb), 1000),
            Err(DecodeError::TooLarge)
        );
        let exact = gzip(&[7u8; 1000]);
        assert_eq!(
            decode(&["gzip".into()], Bytes::from(exact), 1000)
                .unwrap()
                .len(),
            1000
        );
    }

    #[test]
    fn unknown_and_corrupt() {
        assert!(matches!(
            decode(&["br".into()], Bytes::from_static(b"x"), 10),
            Err(DecodeError::Unknown(_))
        ));
        assert!(matches!(
            decode(&["gzip".into()], Bytes::from_static(b"not gzip"), 10),
            Err(DecodeError::Corrupt(..))
        ));
    }

    #[test]
    fn stacked_codings_decode_last_first() {
        let twice = gzip(&gzip(b"inner"));
        let out = decode(&["gzip".into(), "gzip".into()], Bytes::from(twice), 100).unwrap();
        assert_eq!(&out[..], b"inner");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            for c in ["gzip", "deflate"] {
                let _ = decode(&[c.to_owned()], Bytes::from(data.clone()), 4096);
            }
        }
    }
}
