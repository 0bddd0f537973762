package dev.rankwise.cpu;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratedKernelsTest {
    @Test
    void f32KernelsAreGeneratedFromTheF64Template() throws Exception {
        String f64 = Files.readString(GenerateF32Kernels.DIR.resolve("KernelsF64.java"));
        String f32 = Files.readString(GenerateF32Kernels.DIR.resolve("KernelsF32.java"));
        assertEquals(GenerateF32Kernels.generate(f64), f32,
                "KernelsF32.java is stale: run `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/GenerateF32Kernels.java`");
    }
}
