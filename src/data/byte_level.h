// byte_level.h — GPT-2's byte-level alphabet, as Hugging Face's ByteLevel
// pre-tokenizer and decoder use it: each byte is one printable character.
// Bytes 0x21–0x7E, 0xA1–0xAC and 0xAE–0xFF are the code points of the same
// number; the other 68 bytes, in increasing order, are U+0100, U+0101, …
// U+0143 (so the space 0x20 is U+0120 'Ġ' and the newline U+010A 'Ċ').
// A vocabulary of such a tokenizer holds its tokens in this alphabet.
#pragma once
#include <stddef.h>
#include <stdint.h>

// The code point that stands for byte b.
uint32_t slm_byte_level_char(unsigned char b);
// The byte that code point cp stands for, or -1 when cp is outside the alphabet.
int slm_byte_level_byte(uint32_t cp);
// Writes the UTF-8 of the characters of s[0..n) at out (room for 2n bytes);
// returns the bytes written.
size_t slm_byte_level_map(const unsigned char *s, size_t n, unsigned char *out);
// The bytes that the characters of the UTF-8 s[0..n) stand for, at out (room
// for n bytes); returns their number, or -1 when s is not valid UTF-8 or a
// character is outside the alphabet.
long slm_byte_level_unmap(const unsigned char *s, size_t n, unsigned char *out);
