package dev.rankwise.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/// Derives `KernelsF32.java` from the hand-written `KernelsF64.java` (STYLE: generate the second type,
/// don't copy it). Run from the repository root after editing the F64 kernels:
/// `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/GenerateF32Kernels.java`.
/// `GeneratedKernelsTest` fails while the checked-in file is stale.
public final class GenerateF32Kernels {
    static final Path DIR = Path.of("src/main/java/dev/rankwise/cpu");
    private static final String KEEP = "/*keep*/double";

    public static void main(String[] args) throws IOException {
        Path dir = Files.isDirectory(DIR) ? DIR : Path.of("engine-cpu-vector").resolve(DIR);
        String out = generate(Files.readString(dir.resolve("KernelsF64.java")));
        Path tmp = Files.createTempFile(dir, "KernelsF32", ".tmp");
        Files.writeString(tmp, out);
        Files.move(tmp, dir.resolve("KernelsF32.java"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String generate(String f64) {
        int docStart = f64.indexOf("/// F64 ");
        int classStart = f64.indexOf("final class KernelsF64 {");
        if (docStart < 0 || classStart < docStart) throw new IllegalStateException("KernelsF64.java lost its markers");
        String header = "/// F32 elementwise, reduction and indexing kernels on strided host arrays.\n"
                + "///\n/// GENERATED from `\u0001.java` by `GenerateF32Kernels` (engine-cpu-vector tests). Do not edit.\n";
        String body = f64.substring(0, docStart) + header + f64.substring(classStart);
        return body.replace(KEEP, "\u0000")
                .replace("KernelsF64", "KernelsF32")
                .replace("DoubleVector", "FloatVector")
                .replace("<Double>", "<Float>")
                .replace("Double.", "Float.")
                .replaceAll("\\bdouble\\b", "float")
                .replace(".f64", ".f32")
                .replace("\u0000", KEEP)
                .replace("\u0001", "KernelsF64");
    }
}
