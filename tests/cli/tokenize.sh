#!/bin/sh
# `slm tokenize` end to end: train a tokenizer and encode a text holding
# invalid UTF-8 and NUL bytes, decode it back byte for byte; the train and
# validation files split the tokens with nothing lost or shared; a loaded
# tokenizer encodes as the trained one did; several --text files act as their
# concatenation; a Hugging Face tokenizer.json (the fixtures of
# tests/data/hf_tokenizer) encodes and decodes the same way, and says how
# many invalid UTF-8 sequences it read as U+FFFD; slm's tokenizer written with
# --export-hf (alone, or after training) reads back with --hf-tokenizer and
# encodes valid UTF-8 text to the same tokens. Bad usage exits 2, a
# missing, corrupt or unsupported file exits 1, each with a one-line message
# on stderr.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh

# a text: English (the fortunes corpus where installed, else generated), then odd bytes
if [ -d /usr/share/games/fortunes ]; then
    sh scripts/corpus.sh "$dir/english.txt" 200000 || exit 1
else
    awk 'BEGIN { for (i = 0; i < 4000; i++) printf "The cat %d sat on the mat, and then it ran away.\n", i % 97 }' \
        >"$dir/english.txt"
fi
printf 'caf\303\251 \377\376 broken \303( utf-8, a NUL \000 here\000\000, tabs\t\t and \r\n    spaces\n' >"$dir/odd.txt"
cat "$dir/english.txt" "$dir/odd.txt" >"$dir/text.txt"

"$slm" tokenize --text "$dir/text.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/all.tok" \
    >"$dir/summary" 2>"$dir/progress"
check $? "train a 512-token tokenizer and encode $(wc -c <"$dir/text.txt") bytes"
grep -q "bytes per token" "$dir/summary" && grep -q "512 tokens" "$dir/summary"
check $? "the summary gives the vocabulary and bytes per token: $(grep -o '[0-9.]* bytes per token' "$dir/summary")"
grep -q "training" "$dir/progress" && grep -q "encoding" "$dir/progress"
check $? "steps are announced on stderr"

"$slm" tokenize --decode "$dir/all.tok" --tokenizer "$dir/tok.bpe" >"$dir/back.txt"
check $? "decode exits 0"
cmp -s "$dir/text.txt" "$dir/back.txt"
check $? "decoding gives back the text byte for byte (invalid UTF-8 and NULs included)"

"$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" --out "$dir/train.tok" --val-frac 0.1 \
    --val-out "$dir/val.tok" >/dev/null 2>&1
check $? "encode with a loaded tokenizer and a 10% validation split"
"$slm" tokenize --decode "$dir/train.tok" --tokenizer "$dir/tok.bpe" >"$dir/train.txt" &&
    "$slm" tokenize --decode "$dir/val.tok" --tokenizer "$dir/tok.bpe" >"$dir/val.txt" &&
    cat "$dir/train.txt" "$dir/val.txt" | cmp -s - "$dir/text.txt"
check $? "train then validation tokens decode to the whole text: disjoint, nothing lost"
[ -s "$dir/val.txt" ] && [ "$(wc -c <"$dir/val.txt")" -lt "$(wc -c <"$dir/train.txt")" ]
check $? "the validation part is the smaller, non-empty tail ($(wc -c <"$dir/val.txt") bytes)"

"$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" --out "$dir/again.tok" >/dev/null 2>&1 &&
    cmp -s "$dir/all.tok" "$dir/again.tok"
check $? "a loaded tokenizer encodes exactly as the one just trained"
"$slm" tokenize --text "$dir/english.txt" --text "$dir/odd.txt" --tokenizer "$dir/tok.bpe" \
    --out "$dir/two.tok" >/dev/null 2>&1 && cmp -s "$dir/all.tok" "$dir/two.tok"
check $? "two --text files encode as their concatenation"
"$slm" tokenize --text "$dir/text.txt" --vocab 512 --tokenizer "$dir/tok2.bpe" >/dev/null 2>&1 &&
    cmp -s "$dir/tok.bpe" "$dir/tok2.bpe"
check $? "training without --out writes only the tokenizer, the same one again"

# a Hugging Face tokenizer.json: encode, decode, and the note on invalid UTF-8
hf=tests/data/hf_tokenizer
"$slm" tokenize --text "$dir/english.txt" --hf-tokenizer $hf/smollm --out "$dir/hf.tok" >"$dir/summary" 2>&1 &&
    "$slm" tokenize --decode "$dir/hf.tok" --hf-tokenizer $hf/smollm/tokenizer.json | cmp -s - "$dir/english.txt"
check $? "--hf-tokenizer encodes the text ($(grep -o 'into [0-9]* tokens' "$dir/summary")) and decodes it back"
"$slm" tokenize --text $hf/text.txt --hf-tokenizer $hf/llama3 --out "$dir/hf2.tok" >/dev/null 2>"$dir/progress"
check $? "--hf-tokenizer encodes the fixture text"
grep -q "16 ill-formed UTF-8 sequences in the text were read as U+FFFD" "$dir/progress"
check $? "and says it read its 16 invalid UTF-8 sequences as U+FFFD"

# slm's tokenizer written for Hugging Face, read back
"$slm" tokenize --export-hf "$dir/hf" --tokenizer "$dir/tok.bpe" >"$dir/summary" 2>&1 &&
    [ -s "$dir/hf/tokenizer.json" ] && [ -s "$dir/hf/tokenizer_config.json" ]
check $? "--export-hf writes tokenizer.json and tokenizer_config.json: $(head -c 120 "$dir/summary")"
"$slm" tokenize --text "$dir/english.txt" --tokenizer "$dir/tok.bpe" --out "$dir/slm.tok" >/dev/null 2>&1 &&
    "$slm" tokenize --text "$dir/english.txt" --hf-tokenizer "$dir/hf" --out "$dir/exported.tok" >/dev/null 2>&1 &&
    cmp -s "$dir/slm.tok" "$dir/exported.tok"
check $? "the exported tokenizer encodes the text to the same tokens"
"$slm" tokenize --text "$dir/english.txt" --vocab 300 --tokenizer "$dir/t300.bpe" --export-hf "$dir/hf300" \
    >/dev/null 2>&1 && grep -q "\"merges\"" "$dir/hf300/tokenizer.json"
check $? "--export-hf after training writes the new tokenizer"

"$slm" tokenize --help >"$dir/help" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "usage" "$dir/help" && grep -q -- "--decode" "$dir/help"
check $? "--help prints the usage (exit $rc)"

# bad usage: exit 2
expect 2 "unknown flag '--bogus'" "$slm" tokenize --bogus
expect 2 "needs a value" "$slm" tokenize --text "$dir/text.txt" --vocab
expect 2 "expects an integer" "$slm" tokenize --text "$dir/text.txt" --vocab many --tokenizer "$dir/x.bpe"
expect 2 "between 256 and 1048576" "$slm" tokenize --text "$dir/text.txt" --vocab 100 --tokenizer "$dir/x.bpe"
expect 2 "needs --tokenizer" "$slm" tokenize --text "$dir/text.txt" --vocab 300
expect 2 "needs --text" "$slm" tokenize --tokenizer "$dir/tok.bpe" --out "$dir/x.tok"
expect 2 "go together" "$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" --out "$dir/x.tok" \
    --val-frac 0.1
expect 2 "in \[0, 1)" "$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" --out "$dir/x.tok" \
    --val-frac 1.5 --val-out "$dir/v.tok"
expect 2 "takes only --tokenizer" "$slm" tokenize --decode "$dir/all.tok" --tokenizer "$dir/tok.bpe" --vocab 300
expect 2 "one of them" "$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" --hf-tokenizer $hf/gpt2 \
    --out "$dir/x.tok"
expect 2 "is read only" "$slm" tokenize --text "$dir/text.txt" --hf-tokenizer $hf/gpt2 --vocab 300
expect 2 "is read only" "$slm" tokenize --hf-tokenizer $hf/gpt2 --export-hf "$dir/hf2"
expect 2 "writes the --tokenizer only" "$slm" tokenize --text "$dir/text.txt" --tokenizer "$dir/tok.bpe" \
    --export-hf "$dir/hf2"

# failed runs: exit 1
expect 1 "cannot open text file .*missing.txt" "$slm" tokenize --text "$dir/missing.txt" --vocab 300 \
    --tokenizer "$dir/x.bpe"
expect 1 "cannot open tokenizer .*missing.bpe" "$slm" tokenize --text "$dir/text.txt" \
    --tokenizer "$dir/missing.bpe" --out "$dir/x.tok"
printf 'not a tokenizer at all' >"$dir/foreign.bpe"
expect 1 "not a slm tokenizer" "$slm" tokenize --decode "$dir/all.tok" --tokenizer "$dir/foreign.bpe"
size=$(wc -c <"$dir/tok.bpe")
head -c $((size - 4)) "$dir/tok.bpe" >"$dir/short.bpe"
expect 1 "truncated tokenizer" "$slm" tokenize --decode "$dir/all.tok" --tokenizer "$dir/short.bpe"
size=$(wc -c <"$dir/all.tok")
head -c $((size - 3)) "$dir/all.tok" >"$dir/short.tok"
expect 1 "truncated token file" "$slm" tokenize --decode "$dir/short.tok" --tokenizer "$dir/tok.bpe"
expect 1 "cannot open token file" "$slm" tokenize --decode "$dir/missing.tok" --tokenizer "$dir/tok.bpe"
"$slm" tokenize --text "$dir/text.txt" --vocab 1024 --tokenizer "$dir/big.bpe" --out "$dir/big.tok" >/dev/null 2>&1
expect 1 "vocabulary of 1024 but the tokenizer" "$slm" tokenize --decode "$dir/big.tok" --tokenizer "$dir/tok.bpe"
expect 1 "cannot open Hugging Face tokenizer .*nowhere" "$slm" tokenize --text "$dir/text.txt" \
    --hf-tokenizer "$dir/nowhere" --out "$dir/x.tok"
printf '{"model": {"type": "Unigram", "vocab": []}}' >"$dir/unigram.json"
expect 1 "Unigram (SentencePiece): not supported" "$slm" tokenize --text "$dir/text.txt" \
    --hf-tokenizer "$dir/unigram.json" --out "$dir/x.tok"
: >"$dir/empty.txt"
expect 1 "the text is empty" "$slm" tokenize --text "$dir/empty.txt" --tokenizer "$dir/tok.bpe" --out "$dir/x.tok"
[ ! -e "$dir/x.tok" ] && [ -z "$(ls "$dir" | grep '\.tmp\.')" ]
check $? "failed runs leave no token file and no temporary file behind"

finish tokenize
