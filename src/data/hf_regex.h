// hf_regex.h — the regular expressions of Hugging Face tokenizers, matched
// with PCRE2. tokenizers compiles them with Oniguruma (Ruby syntax); the
// pattern is given to PCRE2 with UTF and UCP (\p{L}, \p{N} over Unicode),
// ^ and $ at line ends as in Ruby, and what the two define differently
// written in PCRE2's terms: \s is Oniguruma's (U+0009–U+000D, U+0085 and
// \p{Z}: PCRE2's would add U+180E), \w and \W are letters, marks, numbers
// and connector punctuation, \uHHHH is \x{HHHH}. What cannot be written so is
// refused by name: \h and \H (a hex digit in Oniguruma), \b and \B, \S, \W
// and nested sets inside a [...] class, and the inline flags m and s.
#pragma once
#include <stddef.h>

#include "core/err.h"

typedef struct slm_hf_regex slm_hf_regex;

typedef struct {
    size_t start, end;  // byte offsets, end excluded
} slm_span;

// Compiles pattern: a regex, or with literal a string to find as it is.
// NULL with err "WHERE: …" (where names the field) when it is refused or
// does not compile.
slm_hf_regex *slm_hf_regex_new(const char *pattern, int literal, const char *where, slm_err *err);
void slm_hf_regex_free(slm_hf_regex *re);
// The matches in the valid UTF-8 s[0..n), left to right, as tokenizers'
// Oniguruma iterator gives them: each search starts where the last match
// ended, and an empty match right there is skipped by one character. Appends
// them to *spans (of *cap, grown as needed) and returns their number; -1 with
// err when PCRE2 gives up (a match limit). Not for two threads at once.
long slm_hf_regex_matches(slm_hf_regex *re, const unsigned char *s, size_t n, slm_span **spans, size_t *cap,
                          slm_err *err);
