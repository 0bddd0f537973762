package dev.rankwise.cpu.gemm;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratedGemmTest {
    @Test
    void f32GemmIsGeneratedFromTheF64Template() throws Exception {
        String f64 = Files.readString(GenerateGemmF32.DIR.resolve("GemmF64.java"));
        String f32 = Files.readString(GenerateGemmF32.DIR.resolve("GemmF32.java"));
        assertEquals(GenerateGemmF32.generate(f64), f32,
                "GemmF32.java is stale: run `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/gemm/GenerateGemmF32.java`");
    }
}
