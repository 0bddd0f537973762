package dev.rankwise.cpu.linalg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/// Derives each `…F32.java` of the CPU decompositions from its hand-written `…F64.java` (STYLE:
/// generate the second type, don't copy it). Run from the repository root after editing an F64 file:
/// `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/linalg/GenerateF32Linalg.java`.
/// `GeneratedLinalgTest` fails while a checked-in file is stale. Types marked `/*keep*/double` stay
/// double (accumulators, the scalar iterations' inputs).
public final class GenerateF32Linalg {
    static final Path DIR = Path.of("src/main/java/dev/rankwise/cpu/linalg");
    static final List<String> SOURCES = List.of("BlasF64", "HouseholderF64", "BidiagonalF64", "BidiagonalDcF64", "TridiagonalF64",
            "TridiagonalDcF64", "RotationsF64", "SvdF64", "EighF64", "EliminationF64");
    private static final String KEEP = "/*keep*/double";

    public static void main(String[] args) throws IOException {
        Path dir = dir();
        for (String name : SOURCES) {
            String out = generate(Files.readString(dir.resolve(name + ".java")));
            String target = name.replace("F64", "F32") + ".java";
            Path tmp = Files.createTempFile(dir, "gen", ".tmp");
            Files.writeString(tmp, out);
            Files.move(tmp, dir.resolve(target), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    static Path dir() {
        return Files.isDirectory(DIR) ? DIR : Path.of("engine-cpu-vector").resolve(DIR);
    }

    static String generate(String f64) {
        String marker = "Hand-written; `";
        if (!f64.contains(marker)) throw new IllegalStateException("an F64 source lost its 'Hand-written; `…F32` is generated' line");
        return f64.replace(KEEP, "\u0000")
                .replace("F64", "F32")
                .replaceAll("Hand-written; `(\\w+)F32` is generated from this file\\.", "GENERATED from `$1F64.java` by `GenerateF32Linalg` (tests); do not edit.")
                .replace("DoubleVector", "FloatVector")
                .replace("<Double>", "<Float>")
                .replace("Double.", "Float.")
                .replaceAll("\\bdgemm\\b", "sgemm")
                .replaceAll("\\bdouble\\b", "float")
                .replace("\u0000", KEEP);
    }
}
