package dev.rankwise.cpu.gemm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/// Derives the F32 GEMM and fused low-rank kernels from their hand-written F64 templates (STYLE:
/// generate the second type, don't copy it): `GemmF64` → `GemmF32`, `GemmNarrowF64` → `GemmNarrowF32`,
/// `LowRankF64` → `LowRankF32`. They differ only in element type: the tile is MR rows × 2 vectors in
/// both, so NR and the blocking in elements follow from the vector length. Run from the repository root after editing a template:
/// `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/gemm/GenerateGemmF32.java`.
/// `GeneratedGemmTest` fails while a checked-in file is stale.
public final class GenerateGemmF32 {
    static final Path DIR = Path.of("src/main/java/dev/rankwise/cpu/gemm");
    /// Template → generated class.
    static final String[][] PAIRS = {{"GemmF64", "GemmF32"}, {"GemmNarrowF64", "GemmNarrowF32"}, {"LowRankF64", "LowRankF32"}};

    public static void main(String[] args) throws IOException {
        Path dir = Files.isDirectory(DIR) ? DIR : Path.of("engine-cpu-vector").resolve(DIR);
        for (String[] pair : PAIRS) {
            String out = generate(Files.readString(dir.resolve(pair[0] + ".java")), pair[0], pair[1]);
            Path tmp = Files.createTempFile(dir, pair[1], ".tmp");
            Files.writeString(tmp, out);
            Files.move(tmp, dir.resolve(pair[1] + ".java"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    static String generate(String f64, String from, String to) {
        String note = "/// This file is the template of `" + to + "`";
        int at = f64.indexOf(note);
        int end = at < 0 ? -1 : f64.indexOf('\n', at);
        if (end < 0) throw new IllegalStateException(from + ".java lost its template note");
        String body = (f64.substring(0, at) + "\u0000" + f64.substring(end))
                .replace(from, to)
                .replace("GemmF64", "GemmF32")
                .replace("GemmNarrowF64", "GemmNarrowF32")
                .replace("Gemm.dgemm", "Gemm.sgemm")
                .replace("/// F64 ", "/// F32 ")
                .replace("DoubleVector", "FloatVector")
                .replace("<Double>", "<Float>")
                .replaceAll("\\bdouble\\b", "float");
        return body.replace("\u0000", "/// GENERATED from `" + from + ".java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.");
    }
}
