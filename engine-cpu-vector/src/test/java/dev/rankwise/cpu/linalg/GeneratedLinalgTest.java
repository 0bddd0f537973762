package dev.rankwise.cpu.linalg;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratedLinalgTest {
    @Test
    void f32DecompositionsAreGeneratedFromTheF64Sources() throws Exception {
        for (String name : GenerateF32Linalg.SOURCES) {
            String f64 = Files.readString(GenerateF32Linalg.dir().resolve(name + ".java"));
            String f32 = Files.readString(GenerateF32Linalg.dir().resolve(name.replace("F64", "F32") + ".java"));
            assertEquals(GenerateF32Linalg.generate(f64), f32,
                    name.replace("F64", "F32") + ".java is stale: run `java engine-cpu-vector/src/test/java/dev/rankwise/cpu/linalg/GenerateF32Linalg.java`");
        }
    }
}
