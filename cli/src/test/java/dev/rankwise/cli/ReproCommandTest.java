package dev.rankwise.cli;

import dev.rankwise.Device;
import dev.rankwise.spi.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/// The `repro` command line: names, devices, data folders — the failures a user meets before any training.
class ReproCommandTest {
    /// Runs the CLI with stdout and stderr captured: {exit code, stdout, stderr}.
    private static Object[] run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Object[] {code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void listNamesEveryReproduction() {
        Object[] r = run("repro", "list");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).startsWith("sora "), (String) r[1]);
        assertTrue(((String) r[1]).contains("arXiv 2311.11696"), (String) r[1]);
    }

    @Test
    void unknownNamesAndMissingArgumentsAreUsageErrors() {
        Object[] r = run("repro", "nope");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("unknown reproduction 'nope'; available: sora"), (String) r[2]);
        assertEquals(2, run("repro")[0]);
        Object[] bad = run("repro", "sora", "--device", "tpu");
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("unknown device 'tpu'"), (String) bad[2]);
    }

    @Test
    void cudaWithoutAGpuBackendIsAClearError(@TempDir Path out) {
        assumeFalse(Backends.isAvailable(Device.cuda(0)), "a GPU backend is available here");
        Object[] r = run("repro", "sora", "--quick", "--device", "cuda", "--out", out.toString());
        assertEquals(1, r[0]);
        String err = (String) r[2];
        assertTrue(err.contains("--device cuda: no GPU backend is available"), err);
        assertTrue(err.contains("--device cpu"), err);
        assertFalse(Files.exists(out.resolve("planted")), "nothing ran");
    }

    @Test
    void dataFolderWithoutTheFilesIsAnErrorNamingThem(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Files.write(empty.resolve("train-images-idx3-ubyte.gz"), new byte[0]);
        Object[] r = run("repro", "sora", "--quick", "--data", empty.toString(), "--out", tmp.resolve("out").toString());
        assertEquals(1, r[0]);
        String err = (String) r[2];
        assertTrue(err.contains("--data " + empty + " lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"), err);
        assertFalse(Files.exists(tmp.resolve("out")), "the error comes before any experiment runs");
    }
}
