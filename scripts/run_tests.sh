#!/usr/bin/env bash
# Everything `make test` runs, stage by stage, each timed. Every stage runs even if an earlier
# one failed (so one CI run reports all problems); the script exits non-zero if any failed.
# Setup failing stops everything: nothing after it could mean anything.
set -uo pipefail
cd "$(dirname "$0")/.."

MAKE=${MAKE:-make}
VENV=.venv
export GRU_LIB_NO_PROGRESS=1
# pytest's own cache and Python's bytecode are not wanted in a clean checkout.
export PYTHONDONTWRITEBYTECODE=1

declare -a NAMES=() RESULTS=() TIMES=()
failed=0
t_all=$(date +%s)

run_stage() {  # run_stage NAME COMMAND...
    local name=$1; shift
    echo
    echo "=== ${name} ==="
    local t0 rc
    t0=$(date +%s)
    "$@"
    rc=$?
    local dt=$(( $(date +%s) - t0 ))
    NAMES+=("$name"); TIMES+=("$dt")
    if [ "$rc" -eq 0 ]; then RESULTS+=("ok"); else RESULTS+=("FAILED (exit $rc)"); failed=1; fi
    echo "[time] ${name}: ${dt} s (exit ${rc})"
    return "$rc"
}

NB_WORKERS=${NB_WORKERS:-$(nproc)}
nbval() {
    # Strict nbval over every notebook in book/, one notebook per worker (pytest-xdist,
    # --dist loadfile keeps a notebook's cells in order in one kernel). What is compared and what
    # is left to asserts is conftest.py's policy. With no notebook there is nothing to run; with
    # notebooks, pytest collecting nothing (exit 5) is a failure like any other.
    shopt -s nullglob
    local notebooks=(book/*.ipynb)
    shopt -u nullglob
    if [ ${#notebooks[@]} -eq 0 ]; then
        echo "no notebooks in book/ yet: nothing for nbval to run"
        return 0
    fi
    "$@" "$VENV/bin/pytest" --nbval --nbval-current-env \
        --nbval-sanitize-with tests/nbval_sanitize.cfg \
        --nbval-cell-timeout=600 -n "$NB_WORKERS" --dist loadfile \
        "${notebooks[@]}"
}

# The second pass: the same notebooks under another floating-point path (scalar ATen kernels, one
# thread, portable MKL/oneDNN, OpenBLAS's Haswell kernels); scripts/float_path.py checks that every
# switch took effect first. A claim that fails only here was an accident of one machine.
nbval_portable() {
    nbval "$VENV/bin/python" scripts/float_path.py run --
}

BUILD_LOG=_build/build.log
rm -f "$BUILD_LOG"
build() {
    # --all: a from-scratch build, so that warnings of unchanged pages are reported too.
    mkdir -p _build
    "$VENV/bin/jupyter-book" build . -W -n --keep-going --all 2>&1 | tee "$BUILD_LOG"
}

report() {
    echo
    echo "=== summary ==="
    local i
    for i in "${!NAMES[@]}"; do
        printf '  %-22s %6s s  %s\n' "${NAMES[$i]}" "${TIMES[$i]}" "${RESULTS[$i]}"
    done
    printf '  %-22s %6s s\n' "total" "$(( $(date +%s) - t_all ))"
    if [ -f "$BUILD_LOG" ] && grep -q "WARNING\|ERROR" "$BUILD_LOG"; then
        echo
        echo "=== book build warnings (from $BUILD_LOG) ==="
        sed 's/\x1b\[[0-9;]*m//g' "$BUILD_LOG" | grep "WARNING\|ERROR" | head -50
    fi
}

if ! run_stage "setup" "$MAKE" --no-print-directory setup browser-deps; then
    report
    echo "setup failed; no test was run" >&2
    exit 1
fi

run_stage "ruff" "$VENV/bin/ruff" check .
run_stage "pytest (tests/)" "$VENV/bin/pytest" tests/
run_stage "nbval (native)" nbval
run_stage "nbval (portable floats)" nbval_portable
run_stage "book build (-W -n)" build
run_stage "browser check" "$VENV/bin/python" scripts/browser_check.py _build/html \
    --screenshots _build/screenshots
# Two chapters opened in JupyterLab (with jupyterlab-myst) in the same headless Chromium: MyST
# renders, exercises and solutions render, solutions stay collapsed until clicked, no error box,
# every figure shown, every glued number the prose quotes printed as "key = value" in an output.
run_stage "JupyterLab check" "$VENV/bin/python" scripts/lab_check.py \
    --screenshots _build/lab-screenshots
run_stage "PDF (make pdf, check)" "$MAKE" --no-print-directory pdf-check

report
n_failed=0
for r in "${RESULTS[@]}"; do [ "$r" = ok ] || n_failed=$((n_failed + 1)); done
echo "stages: $(( ${#RESULTS[@]} - n_failed )) passed, ${n_failed} failed"
exit "$failed"
