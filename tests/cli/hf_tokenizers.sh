#!/bin/sh
# label: slow
# slm's tokenizers against Hugging Face's `tokenizers` library
# (tests/cli/hf_tokenizers.py): slm's tokenizer exported with --export-hf
# encodes as slm does under tokenizers (and AutoTokenizer, where transformers
# is installed), and --hf-tokenizer encodes as tokenizers does. The Python is
# $SLM_PYTHON, else python3 when it has tokenizers and numpy, else a venv in
# build/pyenv that pip fills (made once, then reused), else python3 after
# `pip install --user`; when none works the test prints "skipped: …" and passes.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
py=${SLM_PYTHON:-python3}
venv=${SLM_SOURCE_DIR:-.}/build/pyenv
has() { "$1" -c "import tokenizers, numpy" >/dev/null 2>&1; }
pick() {
    has "$py" && return 0
    if ! command -v "$py" >/dev/null 2>&1; then
        why="no $py"
        return 1
    fi
    if ! has "$venv/bin/python"; then
        echo "installing tokenizers and numpy with pip into $venv..."
        "$py" -m venv "$venv" >"$dir/pip.log" 2>&1 &&
            "$venv/bin/python" -m pip install -q tokenizers numpy >>"$dir/pip.log" 2>&1
    fi
    has "$venv/bin/python" && py=$venv/bin/python && return 0
    "$py" -m pip install -q --user tokenizers numpy >>"$dir/pip.log" 2>&1
    has "$py" && return 0
    why="tokenizers with numpy is not importable and pip could not install it ($(tail -n 1 "$dir/pip.log" | cut -c1-160))"
    return 1
}
if ! pick; then
    echo "skipped: $why"
    exit 0
fi
"$py" tests/cli/hf_tokenizers.py "$slm" "$dir"
