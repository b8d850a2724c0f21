# shellcheck shell=bash
# Sourced by the scripts: puts the Swift toolchain on PATH when it is installed at /opt/swift.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi

# For the sanitized build (scripts/sanitize): stop at the first report, abort so the process
# that made it fails; no leak detection (the Swift runtime's process-lifetime caches are reported
# at exit, and a leak is not a memory-safety error). Programs built without sanitizers ignore these.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
