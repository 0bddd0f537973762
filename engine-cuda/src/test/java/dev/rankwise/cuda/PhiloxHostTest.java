package dev.rankwise.cuda;

import dev.rankwise.random.Philox;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The GPU's Philox fill code (kernels/src/main/cuda/philox.cuh: the generator, the uniform map,
/// the fdlibm log/sin/cos port, Box–Muller) compiled for this CPU with a C++ compiler and fused
/// multiply-add off, as random.cu is compiled for the GPU: it must give the CPU backend's numbers
/// bit for bit. Skips without a C++ compiler or outside the source tree.
class PhiloxHostTest {
    /// From the module folder (Maven) or the repository root (a packaged run on a GPU machine).
    private static final Path HEADER_DIR = java.util.stream.Stream.of("../kernels/src/main/cuda", "kernels/src/main/cuda")
            .map(Path::of).filter(p -> Files.exists(p.resolve("philox.cuh"))).findFirst().orElse(Path.of("../kernels/src/main/cuda"));

    private static final String PROGRAM = """
            #include <stdio.h>
            #include <stdlib.h>
            #include "philox.cuh"
            int main(int argc, char** argv) {
                unsigned long long seed = strtoull(argv[1], 0, 10), off = strtoull(argv[2], 0, 10);
                long n = atol(argv[3]);
                int normal = atoi(argv[4]);
                for (long b = 0; 4 * b < n; b++) {
                    unsigned long long blk = off + b;
                    unsigned w[4];
                    philox_block((unsigned)blk, (unsigned)(blk >> 32), 0u, 0u, (unsigned)seed, (unsigned)(seed >> 32), w);
                    for (int lane = 0; lane < 4 && 4 * b + lane < n; lane++)
                        printf("%016llx\\n", (unsigned long long)rw_bits(philox_element(w, lane, normal)));
                }
                return 0;
            }
            """;

    @Test
    void hostBuildOfTheKernelCodeGivesTheCpuNumbersBitForBit(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.exists(HEADER_DIR.resolve("philox.cuh")), "kernel sources not found next to this module");
        String cxx = null;
        for (String c : new String[] {"g++", "clang++", "c++"}) {
            if (run(List.of("sh", "-c", "command -v " + c), dir) != null) {
                cxx = c;
                break;
            }
        }
        Assumptions.assumeTrue(cxx != null, "no C++ compiler (g++, clang++) on the PATH: host check of philox.cuh skipped");
        Path src = dir.resolve("philox_host.cpp"), exe = dir.resolve("philox_host");
        Files.writeString(src, PROGRAM);
        String built = run(List.of(cxx, "-O2", "-ffp-contract=off", "-std=c++17", "-I", HEADER_DIR.toAbsolutePath().toString(),
                src.toString(), "-o", exe.toString(), "-lm"), dir);
        assertTrue(built != null, "compiling philox.cuh for the host failed");
        long[][] cases = {{42, 0, 40_001}, {0x9E3779B97F4A7C15L, 123_456_789L, 20_000}, {-1L, 0xFFFF_FFF0L, 20_000}};
        for (long[] c : cases) {
            for (Philox.Kind kind : Philox.Kind.values()) {
                int n = (int) c[2];
                String out = run(List.of(exe.toString(), Long.toUnsignedString(c[0]), Long.toString(c[1]), Integer.toString(n),
                        kind == Philox.Kind.NORMAL ? "1" : "0"), dir);
                assertTrue(out != null, "host program failed");
                String[] lines = out.split("\n");
                assertEquals(n, lines.length);
                double[] want = new double[n];
                Philox.fill(want, n, 0, kind, c[0], c[1]);
                for (int i = 0; i < n; i++) {
                    long got = Long.parseUnsignedLong(lines[i].trim(), 16);
                    if (got != Double.doubleToRawLongBits(want[i])) {
                        throw new AssertionError(kind + " seed " + c[0] + " element " + i + ": host " + Double.longBitsToDouble(got) + " vs CPU " + want[i]);
                    }
                }
            }
        }
    }

    /// Runs a command; its stdout, or null when it fails.
    private static String run(List<String> cmd, Path dir) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return null;
        }
        return p.exitValue() == 0 ? new String(out, StandardCharsets.US_ASCII) : null;
    }
}
