package dev.rankwise.cpu.gemm;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratedGemmTest {
    @Test
    void f32KernelsAreGeneratedFromTheF64Templates() throws Exception {
        for (String[] pair : GenerateGemmF32.PAIRS) {
            String f64 = Files.readString(GenerateGemmF32.DIR.resolve(pair[0] + ".java"));
            String f32 = Files.readString(GenerateGemmF32.DIR.resolve(pair[1] + ".java"));
            assertEquals(GenerateGemmF32.generate(f64, pair[0], pair[1]), f32, pair[1]
                    + ".java is stale: run `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/gemm/GenerateGemmF32.java`");
        }
    }
}
