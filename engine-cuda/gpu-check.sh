#!/usr/bin/env bash
# Everything to run first on an NVIDIA GPU machine, in one command on that machine:
# what the machine offers, a smoke step per layer of the CUDA backend, the CUDA tests, and the GPU
# benchmarks against PyTorch. Made for a machine with a driver, CUDA libraries and python3 + torch,
# but no JDK and no network: everything Java comes packed in .device/ (see `pack`).
#
#   engine-cuda/gpu-check.sh pack   on the build machine: fills .device/ with a JDK 25 runtime, JUnit
#                                   and the class path of engine-cuda, kernels and bench (through the
#                                   shared prepare-device.sh; set PREPARE_DEVICE to its path if it is
#                                   not at ../shared/gpu/ beside the checkout), minus OpenBLAS' natives,
#                                   which only the CPU benchmarks load, so .device stays well under 64 MiB
#   engine-cuda/gpu-check.sh [run]  on the GPU machine, from the repository root, with .device carried
#
# run writes into $OUT (default out/gpu-check), at most 8 files: probe.txt (nvidia-smi, driver,
# the libraries found and their missing dependencies), check.txt (dev.rankwise.cuda.CudaCheck),
# tests.txt (the JUnit tree), junit-xml.tgz, bench-gpu.txt, bench-gpu-lowrank.txt, summary.txt.
# Settings (environment): TEST_TIMEOUT seconds for the tests (280), BENCH=quick|full|none (quick),
# BENCH_TIMEOUT seconds per benchmark (110; `full` needs more: run it alone, BENCH_TIMEOUT=500),
# RANKWISE_CUDA_SYNC (1 during the tests: each launch is followed by a synchronization, so a
# failing kernel is named; 0 during the benchmarks). The defaults end within 10 minutes: 60 s for
# CudaCheck, 280 for the tests, 2 × 110 for the benchmarks, seconds for the rest.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

pack() {
  local prep=${PREPARE_DEVICE:-}
  if [ -z "$prep" ]; then
    for p in ../shared/gpu/prepare-device.sh ../../shared/gpu/prepare-device.sh; do
      [ -x "$p" ] && { prep=$p; break; }
    done
  fi
  [ -n "$prep" ] || { echo "gpu-check pack: prepare-device.sh not found; set PREPARE_DEVICE" >&2; exit 2; }
  "$prep" engine-cuda kernels bench || exit 1
  # OpenBLAS' native libraries (about 20 MB) serve only the CPU benchmarks' peers, and JCuda's
  # PTX-compiler binding (8 MB packed) goes unused: the driver JIT-compiles our PTX.
  rm -f .device/cp/openblas-*-linux-*.jar .device/cp/javacpp-*-linux-*.jar
  for j in .device/cp/jcuda-natives-*.jar; do
    if command -v zip >/dev/null; then zip -q -d "$j" 'lib/libJNvPTXCompiler-*' || true; fi
  done
  (cd .device && { ls cp/*.jar; echo cp/test-classes; } | sed 's|^|.device/|' | paste -sd: -) > .device/classpath
  local mb
  mb=$(du -sm .device | cut -f1)
  echo "gpu-check pack: .device is ${mb} MiB (carry it: run engine-cuda/gpu-check.sh there)"
  [ "$mb" -lt 60 ] || { echo "gpu-check pack: .device is too large to carry with the checkout (64 MiB in all)" >&2; exit 1; }
}

run() {
  local out=${OUT:-$root/out/gpu-check}
  mkdir -p "$out"
  [ -f .device/jre.tgz ] && [ -f .device/classpath ] || { echo "gpu-check: no .device/ here; run 'engine-cuda/gpu-check.sh pack' on the build machine and carry .device" | tee "$out/summary.txt"; exit 2; }
  local tmp
  tmp=$(mktemp -d)

  # ---------------------------------------------------------------- probe
  {
    echo "== nvidia-smi"; nvidia-smi 2>&1 || echo "(nvidia-smi failed)"
    echo "== nvidia-smi --query"; nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
    echo "== uname"; uname -a
    echo "== loader cache (libcuda, cuBLAS, cuSOLVER)"; ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcublas|libcusolver' || echo "(none in the loader cache)"
    echo "== CUDA libraries on disk"
    find /usr /opt /lib /lib64 /usr/local/nvidia -maxdepth 10 \( -name 'libcuda.so.1' -o -name 'libcublas.so.1[23]*' -o -name 'libcublasLt.so.1[23]*' \
      -o -name 'libcusolver.so.1[12]*' -o -name 'libcusolverMg.so.1[12]*' -o -name 'libcusparse.so.12*' -o -name 'libnvJitLink.so.1[23]*' \) 2>/dev/null | sort -u
    echo "== python3 / torch"; python3 -c 'import torch, sys; print(sys.executable, "torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tail -1
  } > "$out/probe.txt" 2>&1
  # Folders of the CUDA user-space libraries join the loader path, so both bindings and their
  # dependencies (cuBLASLt, cuSPARSE, nvJitLink) resolve wherever pip or a toolkit put them.
  # The driver's libcuda.so.1 joins only when the loader cannot find it already, and never from a
  # toolkit's compat/ or stubs/ folder (a compat driver library must match the kernel module).
  local dirs pattern='/lib(cublas|cublasLt|cusolver|cusolverMg|cusparse|nvJitLink)\.so'
  ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 ' || pattern='/lib(cuda|cublas|cublasLt|cusolver|cusolverMg|cusparse|nvJitLink)\.so'
  dirs=$(grep '^/' "$out/probe.txt" | grep -E "$pattern" | grep -vE '/(compat|stubs)/' | xargs -r -n1 dirname | sort -u | paste -sd: -)
  if [ -n "$dirs" ]; then
    export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export RANKWISE_CUDA_LIB_DIR="$dirs"
  fi
  {
    echo "== LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    for lib in $(grep -E '^/.*/lib(cublas|cusolver)\.so\.[0-9]+$' "$out/probe.txt" | grep -vE '/(compat|stubs)/'); do
      local missing
      missing=$(ldd "$lib" 2>&1 | grep 'not found')
      echo "$lib: ${missing:-all dependencies found}"
    done
  } >> "$out/probe.txt" 2>&1
  cat "$out/probe.txt"

  mkdir -p "$tmp/jre" && tar xzf .device/jre.tgz -C "$tmp" || { echo "gpu-check: cannot unpack .device/jre.tgz" | tee "$out/summary.txt"; exit 2; }
  local java="$tmp/jre/bin/java" cp
  cp=$(cat .device/classpath)
  local jopts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir="$tmp")

  # ---------------------------------------------------------------- smoke steps
  echo "== CudaCheck"
  timeout 60 "$java" "${jopts[@]}" -cp "$cp" dev.rankwise.cuda.CudaCheck > "$out/check.txt" 2>&1
  local check=$?
  grep -v '^WARNING: Using incubator' "$out/check.txt"

  # ---------------------------------------------------------------- tests
  echo "== tests (dev.rankwise.cuda, RANKWISE_CUDA_SYNC=${RANKWISE_CUDA_SYNC:-1})"
  RANKWISE_CUDA_SYNC=${RANKWISE_CUDA_SYNC:-1} timeout "${TEST_TIMEOUT:-280}" "$java" "${jopts[@]}" -jar .device/junit.jar execute \
    --class-path "$cp" --scan-class-path=.device/cp/test-classes --include-package=dev.rankwise.cuda \
    --fail-if-no-tests --details=tree --disable-ansi-colors --disable-banner --reports-dir="$tmp/junit-xml" > "$out/tests.txt" 2>&1
  local tests=$?
  (cd "$tmp" && tar czf "$out/junit-xml.tgz" junit-xml 2>/dev/null)
  grep -E '✘|^\[ *[0-9]+ (tests|containers) (found|successful|failed|aborted|skipped) *\]' "$out/tests.txt" | head -60

  # ---------------------------------------------------------------- benchmarks
  local bench=${BENCH:-quick} benches=()
  if [ "$bench" != none ]; then
    for b in gpu gpu-lowrank; do
      echo "== bench $b ($bench)"
      RANKWISE_CUDA_SYNC=0 timeout "${BENCH_TIMEOUT:-110}" "$java" "${jopts[@]}" -cp "$cp" dev.rankwise.bench.BenchMain "$b" \
        $([ "$bench" = quick ] && echo --quick) > "$out/bench-$b.txt" 2>&1
      benches+=("$b=$?")
      grep -v '^WARNING: Using incubator' "$out/bench-$b.txt"
    done
  fi

  {
    echo "gpu-check: $(date -u +%FT%TZ) on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
    grep '^cuda:' "$out/check.txt"
    echo "CudaCheck exit $check (0 ok, 1 a step failed, 3 no GPU, 124 timed out)"
    echo "tests exit $tests (0 all passed, 1 failures, 2 none found, 124 timed out):$(grep -E '^\[ *[0-9]+ tests (successful|failed|aborted) *\]' "$out/tests.txt" | tr -s ' []' ' ' | paste -sd, -)"
    echo "benchmarks (exit codes): ${benches[*]:-not run}"
  } | tee "$out/summary.txt"
  rm -rf "$tmp"
  [ $check = 0 ] && [ $tests = 0 ]
}

case "${1:-run}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 [pack|run]" >&2; exit 2 ;;
esac
