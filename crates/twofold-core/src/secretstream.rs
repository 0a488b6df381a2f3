//! One-message streams of libsodium's `crypto_secretstream_xchacha20poly1305`, as Ente Auth
//! encrypts its exports: [`open`] reads them, [`seal`] writes them.
//!
//! Spec: libsodium's `crypto_secretstream/xchacha20poly1305/secretstream_xchacha20poly1305.c`.
//! The stream key is HChaCha20(key, header[..16]); the ChaCha20 nonce is the 32-bit message
//! counter (1 for the first message) then header[16..]. Block 0 of the keystream keys Poly1305;
//! block 1 encrypts the message tag byte (the message's first byte); the message itself starts at
//! block 2. The MAC covers that whole tag block, the ciphertext, `len % 16` zero bytes, and the
//! lengths of the (empty) associated data and of tag block plus ciphertext.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use zeroize::{Zeroize, Zeroizing};

/// The stream's header: 16 bytes for HChaCha20, 8 for the nonce.
pub(crate) const HEADER_LEN: usize = 24;

/// Poly1305 tag length.
pub(crate) const MAC_LEN: usize = 16;

/// libsodium's `TAG_FINAL`: the last message of a stream, what Ente writes for its one message.
const TAG_FINAL: u8 = 3;

/// ChaCha20 keyed for the first message, and the Poly1305 key of its block 0.
fn first_message(
    key: &[u8; 32],
    header: &[u8; HEADER_LEN],
) -> Option<(ChaCha20, Zeroizing<[u8; 64]>)> {
    let (hchacha_input, nonce_tail) = header.split_first_chunk::<16>()?;
    let mut derived = chacha20::hchacha::<chacha20::R20>(key.into(), hchacha_input.into());
    let stream_key = Zeroizing::new(<[u8; 32]>::from(derived));
    derived.as_mut_slice().zeroize();
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&1u32.to_le_bytes());
    nonce[4..].copy_from_slice(nonce_tail);
    let mut chacha = ChaCha20::new((&*stream_key).into(), (&nonce).into());
    let mut block = Zeroizing::new([0u8; 64]);
    chacha.apply_keystream(block.as_mut_slice());
    Some((chacha, block))
}

/// The Poly1305 tag over the encrypted tag block and the ciphertext.
fn mac(poly_key: &[u8], tag_block: &[u8; 64], ciphertext: &[u8]) -> Option<[u8; MAC_LEN]> {
    let mac = Poly1305::new_from_slice(&poly_key[..32]).ok()?;
    // libsodium pads the ciphertext with `(16 - 64 + len) & 15` zeros, that is `len % 16`, not
    // up to a multiple of 16; the MAC runs over the bytes as one unpadded stream.
    let mut covered = Vec::with_capacity(tag_block.len() + ciphertext.len() + 2 * MAC_LEN);
    covered.extend_from_slice(tag_block);
    covered.extend_from_slice(ciphertext);
    covered.resize(covered.len() + ciphertext.len() % 16, 0);
    covered.extend_from_slice(&0u64.to_le_bytes());
    let length = u64::try_from(tag_block.len() + ciphertext.len()).ok()?;
    covered.extend_from_slice(&length.to_le_bytes());
    Some(mac.compute_unpadded(&covered).into())
}

/// Decrypts the first message of a stream (`crypto_secretstream_xchacha20poly1305_pull`):
/// `None` when its tag does not verify.
pub(crate) fn open(
    key: &[u8; 32],
    header: &[u8; HEADER_LEN],
    message: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let (mut chacha, poly_key) = first_message(key, header)?;
    let (tag_byte, rest) = message.split_first()?;
    let (ciphertext, expected) = rest.split_at(rest.len().checked_sub(MAC_LEN)?);
    let mut block = Zeroizing::new([0u8; 64]);
    chacha.seek(64u64);
    chacha.apply_keystream(block.as_mut_slice());
    block[0] = *tag_byte;
    let computed = mac(poly_key.as_slice(), &block, ciphertext)?;
    // Compared without an early exit, so timing does not tell how much of the tag matched.
    let difference = computed.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if difference != 0 {
        return None;
    }
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    chacha.seek(128u64);
    chacha.apply_keystream(plaintext.as_mut_slice());
    Some(plaintext)
}

/// Encrypts `plaintext` as the one (final) message of a stream with `header`
/// (`crypto_secretstream_xchacha20poly1305_init_push`, then `push` with `TAG_FINAL`): the
/// encrypted tag byte, the ciphertext, then the MAC.
pub(crate) fn seal(key: &[u8; 32], header: &[u8; HEADER_LEN], plaintext: &[u8]) -> Option<Vec<u8>> {
    let (mut chacha, poly_key) = first_message(key, header)?;
    let mut block = Zeroizing::new([0u8; 64]);
    block[0] = TAG_FINAL;
    chacha.seek(64u64);
    chacha.apply_keystream(block.as_mut_slice());
    let mut out = Vec::with_capacity(1 + plaintext.len() + MAC_LEN);
    out.push(block[0]);
    out.extend_from_slice(plaintext);
    chacha.seek(128u64);
    chacha.apply_keystream(&mut out[1..]);
    let tag = mac(poly_key.as_slice(), &block, &out[1..])?;
    out.extend_from_slice(&tag);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_opens_and_any_changed_byte_is_refused() {
        let (key, header) = ([7u8; 32], [9u8; HEADER_LEN]);
        let sealed = seal(&key, &header, b"otpauth://totp/a?secret=AAAA").unwrap();
        assert_eq!(
            open(&key, &header, &sealed).unwrap().as_slice(),
            b"otpauth://totp/a?secret=AAAA"
        );
        for i in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 1;
            assert!(open(&key, &header, &changed).is_none(), "byte {i}");
        }
        assert!(open(&[8u8; 32], &header, &sealed).is_none());
    }
}
