// utf8.h — UTF-8 as the Hugging Face tokenizer needs it: the length of the
// next sequence (or of the invalid bytes that stand in for one), a repair
// that replaces invalid bytes by U+FFFD exactly as Python's
// bytes.decode("utf-8", errors="replace") and Rust's String::from_utf8_lossy
// do (one U+FFFD per maximal subpart of an ill-formed sequence, Unicode 15
// §3.9), decoding and encoding one code point, and Unicode's White_Space.
#pragma once
#include <stddef.h>
#include <stdint.h>

// Length of the well-formed sequence at s[i] (1–4, *valid = 1), or of the
// maximal subpart of an ill-formed one there (1–3, *valid = 0). i < n.
size_t slm_utf8_seq_len(const unsigned char *s, size_t n, size_t i, int *valid);
// s[0..n) with every ill-formed subpart replaced by U+FFFD (EF BF BD):
// malloc'd, *out_n bytes, *n_replaced replacements; NULL (and *n_replaced =
// 0) when s is already valid UTF-8, which is then to be used as it is.
unsigned char *slm_utf8_repair(const unsigned char *s, size_t n, size_t *out_n, size_t *n_replaced);
// The code point of the well-formed sequence at s[*i]; advances *i past it.
uint32_t slm_utf8_next(const unsigned char *s, size_t *i);
// Writes cp (at most U+10FFFF) as UTF-8 at out; returns its length, 1–4.
size_t slm_utf8_put(unsigned char *out, uint32_t cp);
// Whether cp has Unicode's White_Space property (what Rust's char::is_whitespace
// and the regex crate's \s match).
int slm_utf8_is_white_space(uint32_t cp);
