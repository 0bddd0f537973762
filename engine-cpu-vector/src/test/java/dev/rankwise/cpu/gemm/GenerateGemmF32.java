package dev.rankwise.cpu.gemm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/// Derives `GemmF32.java` from the hand-written `GemmF64.java` (STYLE: generate the second type, don't
/// copy it). The two differ only in element type: the tile is MR rows × 2 vectors in both, so NR and
/// the blocking in elements follow from the vector length. Run from the repository root after editing
/// the F64 template: `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/gemm/GenerateGemmF32.java`.
/// `GeneratedGemmTest` fails while the checked-in file is stale.
public final class GenerateGemmF32 {
    static final Path DIR = Path.of("src/main/java/dev/rankwise/cpu/gemm");
    private static final String TEMPLATE_NOTE = "/// This file is the template of `GemmF32`";

    public static void main(String[] args) throws IOException {
        Path dir = Files.isDirectory(DIR) ? DIR : Path.of("engine-cpu-vector").resolve(DIR);
        String out = generate(Files.readString(dir.resolve("GemmF64.java")));
        Path tmp = Files.createTempFile(dir, "GemmF32", ".tmp");
        Files.writeString(tmp, out);
        Files.move(tmp, dir.resolve("GemmF32.java"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String generate(String f64) {
        int note = f64.indexOf(TEMPLATE_NOTE);
        int noteEnd = note < 0 ? -1 : f64.indexOf('\n', note);
        if (noteEnd < 0) throw new IllegalStateException("GemmF64.java lost its template note");
        String body = (f64.substring(0, note) + "\u0000" + f64.substring(noteEnd))
                .replace("GemmF64", "GemmF32")
                .replace("/// F64 GEMM", "/// F32 GEMM")
                .replace("DoubleVector", "FloatVector")
                .replace("<Double>", "<Float>")
                .replaceAll("\\bdouble\\b", "float");
        return body.replace("\u0000", "/// GENERATED from `GemmF64.java` by `GenerateGemmF32` (engine-cpu-vector tests). Do not edit.");
    }
}
